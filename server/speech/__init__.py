"""Offline speech pipeline of the reference server (SPEC §6.5, §7).

Speech-to-text (pocketsphinx grammar + open vocabulary, or vosk with
``TEDDY_VOSK_MODEL``, or scripted for tests) -> rule-based child-safe responder ->
espeak-ng text-to-speech, all offline and blocking; the server runs them in threads.
The package root re-exports only interfaces and errors: importing it loads no model.
"""

from __future__ import annotations

from server.speech.errors import (
    SpeechBusyError,
    SpeechConfigError,
    SpeechError,
    StreamClosedError,
    SynthesisError,
)
from server.speech.interfaces import (
    ChildContext,
    RecognitionStream,
    Reply,
    Responder,
    SpeechToText,
    TextToSpeech,
    Transcript,
)

__all__ = [
    "ChildContext",
    "RecognitionStream",
    "Reply",
    "Responder",
    "SpeechBusyError",
    "SpeechConfigError",
    "SpeechError",
    "SpeechToText",
    "StreamClosedError",
    "SynthesisError",
    "TextToSpeech",
    "Transcript",
]
