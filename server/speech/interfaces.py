"""The contracts between the server and its speech engines (SPEC §6.5, §7.1).

Owns the three engine interfaces of the offline pipeline -- speech-to-text
(:class:`SpeechToText` handing out incremental :class:`RecognitionStream` s), the
child-safe :class:`Responder` and :class:`TextToSpeech` -- and the values that cross
them (:class:`Transcript`, :class:`Reply`, :class:`ChildContext`). Engines are
blocking and synchronous; the server runs them in a thread executor.

Audio on both sides is PCM s16le, 16 kHz, mono (SPEC §7.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from server.speech.errors import SpeechError

SAMPLE_RATE = 16_000  # SPEC §7.1
SAMPLE_WIDTH = 2  # bytes per sample, s16le
BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH
UPLINK_CHUNK_BYTES = 4096  # SPEC §7.2: 128 ms per device chunk

MIN_CHILD_AGE = 3  # SPEC §6.1: child_age must be an int in 3..13
MAX_CHILD_AGE = 13

Search = Literal["grammar", "open"]
"""Which search produced a transcript: the responder's phrase grammar or open vocabulary."""

Category = Literal[
    "greeting", "story", "joke", "question", "song", "feelings", "chat", "redirect", "unknown"
]
"""What kind of answer the responder gave; ``redirect`` means the input was unsafe."""


@dataclass(frozen=True)
class ChildContext:
    """Who is talking to the toy: the profile name and age (3..13) from the handshake."""

    name: str
    age: int

    def __post_init__(self) -> None:
        if isinstance(self.age, bool) or not isinstance(self.age, int):
            raise SpeechError(f"child age must be an int, got {self.age!r}")
        if not MIN_CHILD_AGE <= self.age <= MAX_CHILD_AGE:
            raise SpeechError(
                f"child age {self.age} is outside {MIN_CHILD_AGE}..{MAX_CHILD_AGE} (SPEC §6.1)"
            )


@dataclass(frozen=True)
class Transcript:
    """What a recognition stream heard.

    ``confidence`` is in 0..1 when the engine can estimate it, else ``None``.
    ``alternative`` is the other search's hypothesis when an engine runs two (the
    pipeline screens it for safety too, so a grammar match cannot hide unsafe words).
    """

    text: str
    confidence: float | None
    engine: str
    search: Search
    alternative: str | None = None


@dataclass(frozen=True)
class Reply:
    """The responder's answer; ``safe`` is False when the input was unsafe or private."""

    text: str
    category: Category
    safe: bool


class RecognitionStream(Protocol):
    """One utterance being recognised while its audio arrives.

    Contract shared by every engine (tested against each in tests/speech):

    * ``feed`` takes PCM s16le 16 kHz mono of any length (an odd trailing byte is kept
      for the next call) and decodes it before returning, so ``finish`` only flushes.
    * ``finish`` ends the utterance, returns its :class:`Transcript` (empty text for
      silence or no audio) and releases the engine resources the stream held.
    * ``close`` drops the utterance without a result; it is idempotent and harmless
      after ``finish``. ``feed``/``finish`` after either raise ``StreamClosedError``.
    * A stream is used by one thread at a time; streams of one engine never share a
      decoder, so several may be open at once.
    """

    def feed(self, pcm: bytes) -> None: ...

    def finish(self) -> Transcript: ...

    def close(self) -> None: ...


class SpeechToText(Protocol):
    """A speech-to-text engine; expensive models are loaded once and shared by streams."""

    def open_stream(self) -> RecognitionStream: ...


class Responder(Protocol):
    """Turns what the child said into a short, child-safe answer (at most 300 chars)."""

    def respond(self, text: str, *, child: ChildContext) -> Reply: ...


class TextToSpeech(Protocol):
    """Speaks a reply as PCM s16le 16 kHz mono (SPEC §7.1); empty text gives no audio."""

    def synthesize(self, text: str) -> bytes: ...
