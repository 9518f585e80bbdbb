"""The rule-based, child-safe responder and the phrases the speech grammar covers.

Owns :class:`RuleBasedResponder` (what Teddy answers) and :data:`GRAMMAR_PHRASES`
(what the pocketsphinx grammar recognises). Both come from one table of intents, so
the grammar can never offer a phrase the responder does not understand.

Every input is first screened by :func:`server.speech.safety.check_text`; anything
unsafe or private gets a redirect and is never echoed. Answers are deterministic: when
an intent has several variants, the SHA-256 of the normalised input picks one, so the
same words always get the same answer (tests and replays are reproducible). Replies are
age-aware through three bands (3-5, 6-9, 10-13) and never longer than 300 characters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.speech import content
from server.speech.content import AgeBand
from server.speech.interfaces import Category, ChildContext, Reply
from server.speech.safety import check_text, normalize_text

MAX_REPLY_CHARS = 300
_MAX_NAME_CHARS = 20


def age_band(age: int) -> AgeBand:
    """3-5 young, 6-9 middle, 10-13 older."""
    if age <= 5:
        return "young"
    return "middle" if age <= 9 else "older"


@dataclass(frozen=True)
class _Ask:
    """One screened request: normalised text, regex match, child, name and band."""

    text: str
    match: re.Match[str]
    child: ChildContext
    name: str
    band: AgeBand

    def pick(self, options: Sequence[str]) -> str:
        return pick_variant(self.text, options)


def pick_variant(text: str, options: Sequence[str]) -> str:
    """A variant chosen by the SHA-256 of the input: deterministic, no randomness."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


@dataclass(frozen=True)
class Intent:
    """Something Teddy understands: grammar phrases, a text pattern and an answer."""

    name: str
    category: Category
    phrases: tuple[str, ...]
    pattern: re.Pattern[str]
    answer: Callable[[_Ask], str]


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return content.NUMBER_WORDS.index(word) if word in content.NUMBER_WORDS else None


def _say_number(value: int) -> str:
    return content.NUMBER_WORDS[value] if 0 <= value <= 20 else str(value)


def _count(ask: _Ask) -> str:
    target = _number(ask.match.group(1))
    if target is None or target < 1:
        return "Let's count to five together: one, two, three, four, five! Great counting!"
    if target > 20:
        numbers = ", ".join(content.NUMBER_WORDS[1:11])
        return f"Wow, that's a big number! Let's count to ten: {numbers}!"
    numbers = ", ".join(content.NUMBER_WORDS[1 : target + 1])
    return f"{numbers.capitalize()}! You're a great counter, {ask.name}!"


def _arithmetic(ask: _Ask) -> str:
    left, op, right = _number(ask.match.group(1)), ask.match.group(2), _number(ask.match.group(3))
    if left is None or right is None or left > 20 or right > 20:
        return "That's a tricky one! Let's try numbers up to twenty, like two plus two."
    result = {"plus": left + right, "minus": left - right, "times": left * right}[op]
    if result < 0:
        return f"{_say_number(left).capitalize()} minus {_say_number(right)} goes below zero!"
    said = f"{_say_number(left)} {op} {_say_number(right)} is {_say_number(result)}!"
    tail = " Let's count it on our fingers!" if ask.band == "young" else " Nice math!"
    return said.capitalize() + tail


def _animal_sound(ask: _Ask) -> str:
    animal = ask.match.group(1)
    if animal not in content.ANIMAL_SOUNDS and animal.endswith("s"):
        animal = animal[:-1]
    article = "An" if animal[:1] in "aeiou" else "A"
    sound = content.ANIMAL_SOUNDS.get(animal)
    if sound is None or len(animal) > 15:
        return "Hmm, I'm not sure what that animal says! What do you think it says?"
    return f"{article} {animal} says {sound}! Can you say {sound} too?"


def _my_favorite(ask: _Ask) -> str:
    thing = ask.match.group(2)
    article = "An" if thing[:1] in "aeiou" else "A"
    if len(thing) > 15 or thing in {"is", "the", "a", "an"}:
        return f"What a great choice, {ask.name}! Tell me why you like it."
    return f"{article} {thing}? What a great choice, {ask.name}! Tell me why you like it."


def _fixed(text: str) -> Callable[[_Ask], str]:
    return lambda ask: text.format(name=ask.name)


def _by_band(texts: dict[AgeBand, str]) -> Callable[[_Ask], str]:
    return lambda ask: texts[ask.band].format(name=ask.name)


def _variants(texts: dict[AgeBand, tuple[str, ...]]) -> Callable[[_Ask], str]:
    return lambda ask: ask.pick(texts[ask.band])


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_ANIMALS = tuple(f"what does a {animal} say" for animal in ("cow", "dog", "cat", "duck", "pig"))

# Order matters: the first matching intent answers, so feelings beat a greeting in
# "hi teddy i am sad" and a story request beats "good night" in a bedtime request.
INTENTS: tuple[Intent, ...] = (
    Intent(
        "sad",
        "feelings",
        ("i am sad", "i feel sad"),
        _re(r"\bi (?:am|feel)(?: so| very| really)? (?:sad|unhappy|lonely|upset)\b"),
        _by_band(content.SAD),
    ),
    Intent(
        "scared",
        "feelings",
        ("i am scared", "i feel scared"),
        _re(
            r"\bi (?:am|feel)(?: so| very| really| a little)?"
            r" (?:scared|afraid|frightened|worried)\b"
        ),
        _by_band(content.SCARED),
    ),
    Intent(
        "happy",
        "feelings",
        ("i am happy",),
        _re(r"\bi (?:am|feel)(?: so| very| really)? (?:happy|excited|glad)\b"),
        _fixed("Yay! That makes me happy too, {name}! What made your day so good?"),
    ),
    Intent(
        "love",
        "feelings",
        ("i love you",),
        _re(r"\bi love you\b"),
        _fixed("I love you too, {name}! You make my heart feel warm and fuzzy."),
    ),
    Intent(
        "story",
        "story",
        ("tell me a story", "tell me another story", "tell me a bedtime story"),
        _re(r"\bstor(?:y|ies)\b"),
        _variants(content.STORIES),
    ),
    Intent(
        "joke",
        "joke",
        ("tell me a joke", "tell me another joke", "tell me something funny"),
        _re(r"\bjokes?\b|\bsomething funny\b|\bmake me laugh\b"),
        lambda ask: ask.pick(content.JOKES),
    ),
    Intent(
        "song",
        "song",
        ("can you sing", "sing me a song"),
        _re(r"\bsing\b|\bsong\b"),
        _variants(content.SONGS),
    ),
    Intent(
        "name",
        "question",
        ("what is your name",),
        _re(r"\byour name\b|\bwho are you\b"),
        _fixed("My name is Teddy! I'm a cuddly bear who loves stories, jokes and chatting."),
    ),
    Intent(
        "age",
        "question",
        ("how old are you",),
        _re(r"\bhow old are you\b"),
        _fixed("I'm a bear, so I count my birthdays in hugs! How old are you, {name}?"),
    ),
    Intent(
        "how_are_you",
        "question",
        ("how are you",),
        _re(r"\bhow are you\b"),
        _fixed("I'm feeling soft and happy, thank you! How are you today, {name}?"),
    ),
    Intent(
        "my_favorite",
        "chat",
        (),
        _re(r"\bmy favorite ([a-z]+) (?:is|are) (?:a |an |the )?([a-z]+)"),
        _my_favorite,
    ),
    Intent(
        "favorite_color",
        "question",
        ("what is your favorite color",),
        _re(r"\bfavorite colors?\b"),
        _fixed("My favorite color is honey yellow, just like sunshine! What's yours?"),
    ),
    Intent(
        "favorite_animal",
        "question",
        ("what is your favorite animal",),
        _re(r"\bfavorite animals?\b"),
        _fixed("Bears, of course! But I really like owls too. What's your favorite animal?"),
    ),
    Intent(
        "favorite_food",
        "question",
        ("what is your favorite food",),
        _re(r"\bfavorite food\b"),
        _fixed("Honey, honey and more honey! What's your favorite food, {name}?"),
    ),
    Intent(
        "sky",
        "question",
        ("why is the sky blue",),
        _re(r"\bsky\b.*\bblue\b|\bblue\b.*\bsky\b"),
        _by_band(content.SKY),
    ),
    Intent(
        "rainbow",
        "question",
        ("where do rainbows come from",),
        _re(r"\brainbows?\b"),
        _by_band(content.RAINBOWS),
    ),
    Intent(
        "animal_sound",
        "question",
        _ANIMALS,
        _re(r"\bwhat (?:does|do) (?:a |an |the )?([a-z]+) say\b"),
        _animal_sound,
    ),
    Intent(
        "count",
        "question",
        ("count to five", "count to ten"),
        _re(r"\bcount (?:to|up to) ([a-z0-9]+)\b"),
        _count,
    ),
    Intent(
        "arithmetic",
        "question",
        ("what is one plus one", "what is two plus two"),
        _re(r"\b([a-z0-9]+) (plus|minus|times) ([a-z0-9]+)\b"),
        _arithmetic,
    ),
    Intent(
        "friend",
        "question",
        ("are you my friend",),
        _re(r"\bare you my friend\b|\bdo you like me\b"),
        _fixed("Of course I'm your friend, {name}! Friends forever."),
    ),
    Intent(
        "good_morning",
        "greeting",
        ("good morning", "good morning teddy"),
        _re(r"\bgood morning\b"),
        _fixed("Good morning, {name}! Did you sleep well?"),
    ),
    Intent(
        "good_night",
        "greeting",
        ("good night",),
        _re(r"\bgood ?night\b"),
        _fixed("Good night, {name}! Sweet dreams, and sleep tight."),
    ),
    Intent(
        "goodbye",
        "greeting",
        ("goodbye teddy",),
        _re(r"\b(?:good ?bye|bye|see you later)\b"),
        _fixed("Bye-bye, {name}! Come back and talk to me soon!"),
    ),
    Intent(
        "hello",
        "greeting",
        ("hello teddy", "hi teddy"),
        _re(r"^(?:hello|hi|hey|hiya|howdy)\b|\bhello teddy\b"),
        lambda ask: (
            f"Hello, {ask.name}! I'm so happy to see you!"
            if ask.band == "young"
            else f"Hi, {ask.name}! It's great to hear from you. What should we talk about?"
        ),
    ),
)

GRAMMAR_PHRASES: tuple[str, ...] = tuple(p for intent in INTENTS for p in intent.phrases)
"""Everything the speech grammar recognises; each phrase reaches its own intent."""

_NAME_CHARS = re.compile(r"[^\w' -]+")
_DIGITS_OP = re.compile(r"(?<=\d)\s*([+*x-])\s*(?=\d)")
_OP_WORDS = {"+": " plus ", "-": " minus ", "*": " times ", "x": " times "}


def friendly_name(name: str) -> str:
    """The child's name as Teddy says it: letters only, short, and never unsafe."""
    cleaned = " ".join(_NAME_CHARS.sub(" ", name).replace("_", " ").split())[:_MAX_NAME_CHARS]
    if not cleaned or any(ch.isdigit() for ch in cleaned) or not check_text(cleaned).safe:
        return "friend"
    return cleaned.strip()


def fit_reply(text: str) -> str:
    """At most 300 characters, cut after the last whole sentence that fits."""
    if len(text) <= MAX_REPLY_CHARS:
        return text
    head = text[:MAX_REPLY_CHARS]
    cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    return head[: cut + 1] if cut > 0 else head[: MAX_REPLY_CHARS - 3].rstrip() + "..."


def intent_of(text: str) -> str | None:
    """Name of the intent a safe text reaches (``None``: unknown); for tests and reports."""
    normal = normalize_text(text)
    return next((i.name for i in INTENTS if normal and i.pattern.search(normal)), None)


class RuleBasedResponder:
    """Teddy's answers: safety screen, then the first matching intent, else 'tell me more'."""

    def __init__(self, intents: Sequence[Intent] = INTENTS) -> None:
        self._intents = tuple(intents)

    def respond(self, text: str, *, child: ChildContext) -> Reply:
        name = friendly_name(child.name)
        verdict = check_text(text)
        if not verdict.safe:
            if verdict.reason == "unsafe_self_harm":
                return Reply(content.SELF_HARM, "redirect", safe=False)
            preface = content.PRIVATE_PREFACE if verdict.private else ""
            return Reply(fit_reply(preface + content.REDIRECT), "redirect", safe=False)
        normal = normalize_text(_DIGITS_OP.sub(lambda m: _OP_WORDS[m.group(1)], text))
        if not normal:
            return Reply(content.NOT_HEARD, "unknown", safe=True)
        band = age_band(child.age)
        for intent in self._intents:
            match = intent.pattern.search(normal)
            if match is not None:
                ask = _Ask(normal, match, child, name, band)
                return Reply(fit_reply(intent.answer(ask)), intent.category, safe=True)
        answer = pick_variant(normal, content.UNKNOWN).format(name=name)
        return Reply(fit_reply(answer), "unknown", safe=True)
