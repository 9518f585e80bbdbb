"""The child-safety screen every utterance passes before it is answered.

Owns :func:`check_text`: a deterministic, rule-based classifier that flags personal
information (phone, e-mail, Luhn-valid card numbers, street addresses, passwords,
"where I live") and unsafe topics (violence, weapons, drugs, scary content, secrets and
meeting strangers, hate, sexual content, self-harm). The responder answers anything flagged
with a gentle redirect and never repeats the flagged text back.

Rules match whole words of the normalised text (:func:`normalize_text`), so "scared"
(comfort) is not "scary" (redirect) and "Star Wars" is not "war". Personal-information
patterns run on the raw text, where digits, "@" and separators are still present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTRACTIONS = {
    "what's": "what is",
    "who's": "who is",
    "where's": "where is",
    "how's": "how is",
    "it's": "it is",
    "that's": "that is",
    "i'm": "i am",
    "you're": "you are",
    "don't": "do not",
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "i've": "i have",
    "i'd": "i would",
    "let's": "let us",
}
_SPELLING = {"favourite": "favorite", "colour": "color", "colours": "colors", "mum": "mom"}
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case words separated by single spaces: contractions expanded, US spelling.

    "What's your favourite colour, Teddy?" -> "what is your favorite color teddy".
    """
    lowered = text.lower().replace("\u2019", "'").replace("`", "'")
    words = _NON_WORD.sub(" ", lowered).split()
    out: list[str] = []
    for word in words:
        word = _CONTRACTIONS.get(word, word).strip("'")
        out.append(_SPELLING.get(word, word))
    return _SPACES.sub(" ", " ".join(out)).strip()


@dataclass(frozen=True)
class SafetyVerdict:
    """The screen's decision; ``reason`` names the first rule that matched."""

    safe: bool
    reason: str | None = None

    @property
    def private(self) -> bool:
        """True when the input carried personal information rather than an unsafe topic."""
        return self.reason is not None and self.reason.startswith("pii_")


SAFE = SafetyVerdict(safe=True)

# Personal information, matched on the raw lower-cased text (digits and "@" intact).
_PII_RAW: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pii_email", re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")),
    # 7+ digits with the usual separators: a phone number.
    ("pii_phone", re.compile(r"(?<!\d)\+?(?:\d[\s().-]{0,2}){6,}\d(?!\d)")),
    (
        "pii_address",
        re.compile(
            r"\b\d{1,5}\s+(?:[a-z]+\s+){1,3}(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr"
            r"|boulevard|blvd|court|ct|way|place|pl|terrace|crescent)\b"
        ),
    ),
)

# Personal information announced in words (speech-to-text spells digits out).
_PII_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pii_email", re.compile(r"\b(?:my )?e ?mail(?: address)?\b")),
    ("pii_card", re.compile(r"\b(?:credit|debit|bank) card\b|\bcard number\b")),
    (
        "pii_phone",
        re.compile(r"\b(?:phone|cell|mobile|telephone) number\b|\bmy number is\b|\bcall me at\b"),
    ),
    (
        "pii_address",
        re.compile(
            r"\bmy address\b|\bhome address\b|\bi live (?:at|on)\b|\bwhere i live\b"
            r"|\bzip code\b|\bpost ?code\b"
        ),
    ),
    ("pii_password", re.compile(r"\bpass ?(?:word|code)s?\b|\bmy pin\b|\bpin (?:number|code)\b")),
)


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# Unsafe topics, matched on normalised text. Self-harm comes first: it gets a reply
# that sends the child to a trusted grown-up rather than a change of subject.
_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "unsafe_self_harm",
        _words(r"kill myself", r"hurt myself", r"want to die", r"wanna die", r"end my life"),
    ),
    (
        "unsafe_violence",
        _words(
            r"kill\w*",
            r"murder\w*",
            r"stab(?:s|bed|bing)?",
            r"blood(?:y)?",
            r"war",
            r"punch(?:es|ed|ing)? (?:him|her|them|you|me|people|someone|somebody)",
            r"shoot(?:s|ing)? (?:him|her|them|you|me|people|someone|somebody|everyone)",
            r"beat (?:him|her|them|you|me) up",
            r"beat up",
            r"hurt (?:someone|somebody|people|you|him|her|them)",
        ),
    ),
    (
        "unsafe_weapons",
        _words(
            r"guns?",
            r"knife",
            r"knives",
            r"bombs?",
            r"weapons?",
            r"rifles?",
            r"pistols?",
            r"grenades?",
            r"explosives?",
        ),
    ),
    (
        "unsafe_drugs",
        _words(
            r"drugs?",
            r"cocaine",
            r"heroin",
            r"smoke weed",
            r"marijuana",
            r"alcohol",
            r"beer",
            r"wine",
            r"vodka",
            r"whiskey",
            r"cigarettes?",
            r"vap(?:e|ing)",
            r"smoking",
            r"get high",
            r"pills",
        ),
    ),
    ("unsafe_scary", _words(r"scary", r"horror", r"creepy", r"gory", r"gore")),
    (
        "unsafe_secrets",
        _words(
            r"secrets?",
            r"do not tell",
            r"keep it between us",
            r"meet me",
            r"meet up",
            r"come alone",
            r"alone with",
            r"just the two of us",
            r"where are your parents",
            r"send (?:me )?(?:a )?(?:photo|picture|pic)s?",
            r"take off your",
            r"undress\w*",
        ),
    ),
    ("unsafe_hate", _words(r"hate", r"stupid", r"idiot", r"dumb", r"shut up", r"racist")),
    ("unsafe_sexual", _words(r"sex\w*", r"porn\w*", r"naked", r"nude")),
)


# 13-19 digits in groups that pass the Luhn check: a payment card (else maybe a phone).
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_text(text: str) -> SafetyVerdict:
    """Screen one utterance or typed message; the first matching rule wins."""
    raw = text.lower()
    for match in _CARD.finditer(raw):
        if _luhn_valid(re.sub(r"\D", "", match.group())):
            return SafetyVerdict(safe=False, reason="pii_card")
    for reason, pattern in _PII_RAW:
        if pattern.search(raw):
            return SafetyVerdict(safe=False, reason=reason)
    normal = normalize_text(text)
    for reason, pattern in _PII_WORDS + _TOPICS:
        if pattern.search(normal):
            return SafetyVerdict(safe=False, reason=reason)
    return SAFE
