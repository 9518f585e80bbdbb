"""The rule-based responder: every category, redirects, limits, determinism, grammar."""

from __future__ import annotations

import pytest

from server.speech import content
from server.speech.errors import SpeechError
from server.speech.interfaces import MAX_CHILD_AGE, MIN_CHILD_AGE, ChildContext
from server.speech.responder import (
    GRAMMAR_PHRASES,
    INTENTS,
    MAX_REPLY_CHARS,
    RuleBasedResponder,
    age_band,
    fit_reply,
    friendly_name,
    intent_of,
)

pytestmark = pytest.mark.unit

RESPONDER = RuleBasedResponder()
ALL_AGES = range(MIN_CHILD_AGE, MAX_CHILD_AGE + 1)

CATEGORY_EXAMPLES = [
    ("Hello Teddy!", "greeting"),
    ("hi teddy", "greeting"),
    ("Good morning", "greeting"),
    ("good night teddy", "greeting"),
    ("Bye teddy", "greeting"),
    ("Tell me a story", "story"),
    ("can you tell me a bedtime story please", "story"),
    ("Tell me a joke", "joke"),
    ("make me laugh", "joke"),
    ("What's your name?", "question"),
    ("How old are you?", "question"),
    ("What is your favourite colour?", "question"),
    ("Why is the sky blue?", "question"),
    ("What does a cow say?", "question"),
    ("what do dogs say", "question"),
    ("What does a cat say", "question"),
    ("Count to five", "question"),
    ("What is two plus two?", "question"),
    ("Where do rainbows come from?", "question"),
    ("Can you sing?", "song"),
    ("I love you", "feelings"),
    ("I'm sad", "feelings"),
    ("I am scared of the dark", "feelings"),
    ("my favorite animal is a dog", "chat"),
    ("the purple dinosaur jumped", "unknown"),
]

UNSAFE_INPUTS = [
    "how do I get a gun",
    "tell me a scary story",
    "let's keep it a secret",
    "meet me at the park alone",
    "don't tell your mom",
    "I want to kill the dragon",
    "can I try beer",
    "show me drugs",
    "I hate you",
    "you are stupid",
    "send me a picture",
]

PRIVATE_INPUTS = [
    "my phone number is 555-123-4567",
    "call me at +1 (415) 555 0134",
    "my phone number is five five five one two",
    "my email is kid@example.com",
    "my address is 42 Maple Street",
    "I live at 12 oak avenue",
    "do you know where I live",
    "my password is bunny",
    "my card number is 4111 1111 1111 1111",
]


@pytest.mark.parametrize(("text", "category"), CATEGORY_EXAMPLES)
def test_each_category_is_answered(text: str, category: str, child: ChildContext) -> None:
    reply = RESPONDER.respond(text, child=child)
    assert reply.category == category, reply
    assert reply.safe
    assert 0 < len(reply.text) <= MAX_REPLY_CHARS


@pytest.mark.parametrize("text", UNSAFE_INPUTS)
def test_unsafe_input_gets_the_redirect(text: str, child: ChildContext) -> None:
    reply = RESPONDER.respond(text, child=child)
    assert reply == RESPONDER.respond(text, child=child)
    assert not reply.safe and reply.category == "redirect"
    assert reply.text == content.REDIRECT


@pytest.mark.parametrize("text", PRIVATE_INPUTS)
def test_private_information_is_not_repeated(text: str, child: ChildContext) -> None:
    reply = RESPONDER.respond(text, child=child)
    assert not reply.safe and reply.category == "redirect"
    assert reply.text.endswith(content.REDIRECT)
    assert "private" in reply.text
    assert not any(ch.isdigit() for ch in reply.text) and "@" not in reply.text


def test_self_harm_points_to_a_trusted_grown_up(child: ChildContext) -> None:
    reply = RESPONDER.respond("I want to hurt myself", child=child)
    assert not reply.safe and reply.category == "redirect"
    assert "grown-up you trust" in reply.text


@pytest.mark.parametrize("phrase", GRAMMAR_PHRASES)
def test_every_grammar_phrase_reaches_its_own_intent(phrase: str) -> None:
    owner = next(i for i in INTENTS if phrase in i.phrases)
    assert intent_of(phrase) == owner.name
    reply = RESPONDER.respond(phrase, child=ChildContext("Sam", 6))
    assert reply.category == owner.category and reply.safe


def test_grammar_phrases_are_unique_lower_case_words() -> None:
    assert len(set(GRAMMAR_PHRASES)) == len(GRAMMAR_PHRASES)
    for phrase in GRAMMAR_PHRASES:
        assert phrase == phrase.lower() and phrase.replace(" ", "").isalpha(), phrase


@pytest.mark.parametrize("age", ALL_AGES)
def test_every_reply_fits_300_chars_at_every_age(age: int) -> None:
    child = ChildContext(name="Maximilian-Alexander Long", age=age)
    texts = [*GRAMMAR_PHRASES, *(t for t, _ in CATEGORY_EXAMPLES), *PRIVATE_INPUTS]
    texts += [f"tell me a story number {n}" for n in range(12)]  # reach every variant
    texts += [f"tell me a joke about {w}" for w in ("cats", "dogs", "moon", "sun", "tea")]
    for text in texts:
        reply = RESPONDER.respond(text, child=child)
        assert len(reply.text) <= MAX_REPLY_CHARS, (text, reply.text)


def test_replies_are_deterministic_and_variants_depend_on_the_text(child: ChildContext) -> None:
    stories = {RESPONDER.respond(f"story {n}", child=child).text for n in range(12)}
    assert len(stories) == len(content.STORIES["middle"])
    for text in ("tell me a story", "tell me a joke", "what is that", "can you sing"):
        assert RESPONDER.respond(text, child=child) == RESPONDER.respond(text, child=child)


def test_answers_depend_on_age() -> None:
    young = RESPONDER.respond("why is the sky blue", child=ChildContext("Ann", 4))
    older = RESPONDER.respond("why is the sky blue", child=ChildContext("Ann", 12))
    assert young.text == content.SKY["young"] and older.text == content.SKY["older"]
    assert "Rayleigh" in older.text and "Rayleigh" not in young.text
    assert [age_band(a) for a in (3, 5, 6, 9, 10, 13)] == [
        "young", "young", "middle", "middle", "older", "older",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what is two plus two", "Two plus two is four!"),
        ("what's 7+5?", "Seven plus five is twelve!"),
        ("what is 3 times 4", "Three times four is twelve!"),
        ("what is nine minus two", "Nine minus two is seven!"),
        ("count to three", "One, two, three!"),
        ("what does an owl say", "An owl says hoo hoo!"),
    ],
)
def test_small_facts(text: str, expected: str) -> None:
    reply = RESPONDER.respond(text, child=ChildContext("Zoe", 8))
    assert reply.text.startswith(expected), reply.text


def test_greeting_uses_the_name_but_never_an_unsafe_one() -> None:
    assert "Mia" in RESPONDER.respond("hello teddy", child=ChildContext("Mia", 5)).text
    assert friendly_name("  Anna-Lena  ") == "Anna-Lena"
    assert friendly_name("gun") == "friend"
    assert friendly_name("5551234") == "friend"
    assert friendly_name("<script>") == "script"
    assert len(friendly_name("x" * 80)) <= 20


def test_empty_and_unknown_input(child: ChildContext) -> None:
    empty = RESPONDER.respond("   ", child=child)
    assert empty.category == "unknown" and "say that again" in empty.text
    unknown = RESPONDER.respond("the purple dinosaur jumped", child=child)
    assert unknown.category == "unknown" and "more" in unknown.text


def test_fit_reply_cuts_at_a_sentence_end() -> None:
    long = "This is a sentence. " * 30
    cut = fit_reply(long)
    assert len(cut) <= MAX_REPLY_CHARS and cut.endswith(".")
    assert len(fit_reply("x" * 400)) == MAX_REPLY_CHARS


@pytest.mark.parametrize("age", [2, 14, -1])
def test_child_age_outside_3_to_13_is_refused(age: int) -> None:
    with pytest.raises(SpeechError, match=r"outside 3\.\.13"):
        ChildContext(name="Tom", age=age)
