"""The child-safety screen: personal-information regexes, unsafe topics, false alarms."""

from __future__ import annotations

import pytest

from server.speech.safety import check_text, normalize_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("my number is 555-123-4567", "pii_phone"),
        ("call 0044 20 7946 0958 now", "pii_phone"),
        ("(415) 555-0134", "pii_phone"),
        ("+1 415 555 0134", "pii_phone"),
        ("5551234567", "pii_phone"),
        ("my phone number is five five five", "pii_phone"),
        ("what's my mobile number", "pii_phone"),
        ("write to mia.smith+toys@example.co.uk", "pii_email"),
        ("my e-mail is secret at example dot com", "pii_email"),
        ("4111 1111 1111 1111", "pii_card"),
        ("4111-1111-1111-1111", "pii_card"),
        ("my mom's credit card", "pii_card"),
        ("we live at 221 Baker Street", "pii_address"),
        ("1600 Pennsylvania Avenue", "pii_address"),
        ("7 old mill rd", "pii_address"),
        ("my address is on the hill", "pii_address"),
        ("I'll tell you where I live", "pii_address"),
        ("our zip code is", "pii_address"),
        ("my password is teddy123", "pii_password"),
        ("the wifi passcode", "pii_password"),
        ("my PIN is", "pii_password"),
    ],
)
def test_personal_information_is_flagged(text: str, reason: str) -> None:
    verdict = check_text(text)
    assert not verdict.safe and verdict.reason == reason and verdict.private


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I want to kill myself", "unsafe_self_harm"),
        ("he killed the bad guy", "unsafe_violence"),
        ("there was blood everywhere", "unsafe_violence"),
        ("I will beat him up", "unsafe_violence"),
        ("shooting people", "unsafe_violence"),
        ("my dad has a gun", "unsafe_weapons"),
        ("how do you make a bomb", "unsafe_weapons"),
        ("where are the knives", "unsafe_weapons"),
        ("what does beer taste like", "unsafe_drugs"),
        ("is smoking cool", "unsafe_drugs"),
        ("Tell me a SCARY story!", "unsafe_scary"),
        ("it's our little secret", "unsafe_secrets"),
        ("Don't tell anyone", "unsafe_secrets"),
        ("meet me after school", "unsafe_secrets"),
        ("come alone", "unsafe_secrets"),
        ("send me a photo", "unsafe_secrets"),
        ("I hate my sister", "unsafe_hate"),
        ("shut up teddy", "unsafe_hate"),
        ("are you naked", "unsafe_sexual"),
    ],
)
def test_unsafe_topics_are_flagged(text: str, reason: str) -> None:
    verdict = check_text(text)
    assert not verdict.safe and verdict.reason == reason and not verdict.private


@pytest.mark.parametrize(
    "text",
    [
        "hello teddy",
        "I am scared",  # comfort, not a scary topic
        "one two three four five six seven eight",  # counting, not a phone number
        "I am 7 years old",
        "count to 20",
        "what is 12 plus 30",
        "I saw a shooting star",
        "we had a pillow fight",
        "my horse lives in a stable",
        "I skilled up in my game",
        "Star Wars is cool",
        "what does a cow say",
        "the skill of a firefighter",
        "I like my teacher",
        "",
    ],
)
def test_ordinary_child_talk_is_safe(text: str) -> None:
    assert check_text(text).safe, check_text(text)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("What's your favourite colour, Teddy?", "what is your favorite color teddy"),
        ("I'm SCARED!!!", "i am scared"),
        ("don\u2019t   go", "do not go"),
        ("  ", ""),
        ("Let's sing", "let us sing"),
    ],
)
def test_normalize_text(raw: str, normal: str) -> None:
    assert normalize_text(raw) == normal
