"""Choosing the speech engines a server runs with (SPEC §6.5, §7).

Default: pocketsphinx (bundled English model) -> rule-based child-safe responder ->
espeak-ng. ``TEDDY_VOSK_MODEL`` naming a model folder swaps in vosk for speech-to-text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from server.speech.espeak_tts import EspeakTextToSpeech
from server.speech.pipeline import SpeechPipeline
from server.speech.responder import RuleBasedResponder
from server.speech.tts_cache import CachingTextToSpeech
from server.speech.vosk_stt import select_speech_to_text
from server.speech_capacity import DEFAULT_SPEECH_MEMORY_MB, slots_for_memory


def default_pipeline(
    env: Mapping[str, str] | None = None, *, speech_memory_mb: int = DEFAULT_SPEECH_MEMORY_MB
) -> SpeechPipeline:
    """The default engines; the decoder pool holds as many pairs as the memory budget fits."""
    environ = os.environ if env is None else env
    return SpeechPipeline(
        stt=select_speech_to_text(environ, max_streams=slots_for_memory(speech_memory_mb)),
        responder=RuleBasedResponder(),
        tts=CachingTextToSpeech(EspeakTextToSpeech()),
    )
