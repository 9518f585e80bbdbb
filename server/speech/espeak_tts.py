"""The server's text-to-speech engine: espeak-ng through the shared `voice` package.

Owns :class:`EspeakTextToSpeech`, the :class:`~server.speech.interfaces.TextToSpeech`
the reference server speaks its replies with (SPEC §6.4, §7.1). The synthesis itself
lives in `voice.espeak`, which the emulator also uses for the child's voice; this
adapter only turns `voice` failures into the server's speech errors, so the chat
session answers them with ``processing_error`` (SPEC §6.3).
"""

from __future__ import annotations

from server.speech.errors import SpeechConfigError, SynthesisError
from voice.errors import SynthesisError as VoiceSynthesisError
from voice.errors import VoiceConfigError
from voice.espeak import DEFAULT_SPEED_WPM, DEFAULT_VOICE, MAX_TEXT_CHARS, Espeak

__all__ = ["DEFAULT_SPEED_WPM", "DEFAULT_VOICE", "MAX_TEXT_CHARS", "EspeakTextToSpeech"]


class EspeakTextToSpeech:
    """Speaks text with espeak-ng; thread-safe (every call runs its own process)."""

    def __init__(
        self,
        voice: str = DEFAULT_VOICE,
        speed: int = DEFAULT_SPEED_WPM,
        *,
        executable: str = "espeak-ng",
        timeout_s: float = 20.0,
    ) -> None:
        try:
            self._engine = Espeak(voice, speed, executable=executable, timeout_s=timeout_s)
        except VoiceConfigError as exc:
            raise SpeechConfigError(str(exc)) from exc
        self.voice = voice
        self.speed = speed

    def synthesize(self, text: str) -> bytes:
        """PCM s16le 16 kHz mono for ``text``; empty or blank text gives ``b""``."""
        try:
            return self._engine.synthesize(text)
        except VoiceConfigError as exc:
            raise SpeechConfigError(str(exc)) from exc
        except VoiceSynthesisError as exc:
            raise SynthesisError(str(exc)) from exc
