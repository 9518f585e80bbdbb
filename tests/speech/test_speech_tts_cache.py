"""The TTS cache returns the engine's PCM and bounds its size."""

from __future__ import annotations

import pytest

from server.speech.tts_cache import CachingTextToSpeech

pytestmark = pytest.mark.unit


class CountingEngine:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.calls.append(text)
        return text.encode() * 2


def test_repeated_text_is_synthesized_once() -> None:
    engine = CountingEngine()
    cache = CachingTextToSpeech(engine, max_entries=2)
    assert cache.synthesize("hi") == b"hihi"
    assert cache.synthesize("hi") == b"hihi"
    assert engine.calls == ["hi"]
    assert (cache.hits, cache.misses) == (1, 1)


def test_least_recently_used_entry_is_evicted() -> None:
    engine = CountingEngine()
    cache = CachingTextToSpeech(engine, max_entries=2)
    for text in ("a", "b", "a", "c", "b"):
        cache.synthesize(text)
    assert engine.calls == ["a", "b", "c", "b"]
