"""The speech pipeline: speech-to-text -> child-safe responder -> text-to-speech.

Owns :class:`SpeechPipeline` and the per-utterance :class:`Utterance`. Everything is
blocking and synchronous; the server runs each call in a thread executor so decoding
never stalls the event loop (SPEC §6.5). Stage timings use ``time.perf_counter``
(this is server code; ``protocol`` stays clock-free).

``stt_ms`` is the speech-to-text time after the last audio chunk -- ``finish()`` --
because decoding itself happens while the chunks arrive. Replies are screened twice:
the responder screens the transcript, and when the engine had a second hypothesis
(``Transcript.alternative``) that one is screened too, so a confident grammar match
cannot hide unsafe or private words the open-vocabulary decoder heard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from server.speech.interfaces import (
    UPLINK_CHUNK_BYTES,
    Category,
    ChildContext,
    RecognitionStream,
    Responder,
    SpeechToText,
    TextToSpeech,
    Transcript,
)


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def feed_in_chunks(
    stream: RecognitionStream | Utterance, pcm: bytes, *, chunk_bytes: int = UPLINK_CHUNK_BYTES
) -> None:
    """Feed PCM the way a device sends it: 4096-byte chunks by default (SPEC §7.2)."""
    for i in range(0, len(pcm), chunk_bytes):
        stream.feed(pcm[i : i + chunk_bytes])


def transcribe(
    stt: SpeechToText, pcm: bytes, *, chunk_bytes: int = UPLINK_CHUNK_BYTES
) -> Transcript:
    """Recognise a whole recording as if it were streamed (tests, bench, replays)."""
    stream = stt.open_stream()
    try:
        feed_in_chunks(stream, pcm, chunk_bytes=chunk_bytes)
        return stream.finish()
    finally:
        stream.close()


@dataclass(frozen=True)
class PipelineReply:
    """One answer: what was heard, what Teddy says (text and PCM) and how long it took.

    ``timings`` has ``stt_ms`` (0 for typed text), ``respond_ms`` and ``tts_ms``.
    """

    transcript: str
    reply_text: str
    category: Category
    safe: bool
    pcm: bytes
    timings: dict[str, float] = field(default_factory=dict)
    heard: Transcript | None = None


class Utterance:
    """One spoken utterance: feed its audio as it arrives, then ``finish`` to answer."""

    def __init__(self, pipeline: SpeechPipeline, stream: RecognitionStream) -> None:
        self._pipeline = pipeline
        self._stream = stream

    def feed(self, pcm: bytes) -> None:
        self._stream.feed(pcm)

    def finish(self, child: ChildContext) -> PipelineReply:
        start = time.perf_counter()
        transcript = self._stream.finish()
        return self._pipeline.answer_transcript(transcript, child, stt_ms=_ms_since(start))

    def close(self) -> None:
        """Drop the utterance (superseded, too short, disconnect) without answering."""
        self._stream.close()


class SpeechPipeline:
    """Wires one speech-to-text engine, one responder and one text-to-speech engine."""

    def __init__(self, stt: SpeechToText, responder: Responder, tts: TextToSpeech) -> None:
        self.stt = stt
        self.responder = responder
        self.tts = tts

    def open_utterance(self) -> Utterance:
        """Start recognising an utterance (may wait for a free decoder)."""
        return Utterance(self, self.stt.open_stream())

    def answer_transcript(
        self, heard: str | Transcript, child: ChildContext, *, stt_ms: float = 0.0
    ) -> PipelineReply:
        """Answer what speech-to-text heard.

        Pass the :class:`Transcript` itself rather than its text where possible: its
        ``alternative`` hypothesis is screened for safety as well.
        """
        transcript = heard if isinstance(heard, Transcript) else None
        text = heard.text if isinstance(heard, Transcript) else heard
        start = time.perf_counter()
        reply = self.responder.respond(text, child=child)
        if reply.safe and transcript is not None and transcript.alternative:
            second = self.responder.respond(transcript.alternative, child=child)
            if not second.safe:
                reply = second
        respond_ms = _ms_since(start)
        start = time.perf_counter()
        pcm = self.tts.synthesize(reply.text)
        timings = {"stt_ms": stt_ms, "respond_ms": respond_ms, "tts_ms": _ms_since(start)}
        return PipelineReply(
            transcript=text,
            reply_text=reply.text,
            category=reply.category,
            safe=reply.safe,
            pcm=pcm,
            timings=timings,
            heard=transcript,
        )

    def answer_text(self, text: str, child: ChildContext) -> PipelineReply:
        """Answer a typed ``text_message`` (SPEC §6.3): no speech-to-text stage."""
        return self.answer_transcript(text, child, stt_ms=0.0)
