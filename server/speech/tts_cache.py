"""A bounded cache in front of any text-to-speech engine.

The rule-based responder answers from a finite set of sentences (greetings name the child,
but a class of children shares a handful of names), so most replies repeat. Synthesis is
the costliest stage left after recognition (an espeak-ng process per reply); caching the
PCM of recent sentences removes it from the reply latency when many toys talk at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from server.speech.interfaces import TextToSpeech


class CachingTextToSpeech:
    """LRU cache of synthesized PCM keyed by the exact text; thread-safe."""

    def __init__(self, engine: TextToSpeech, *, max_entries: int = 256) -> None:
        self._engine = engine
        self._max = max_entries
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def synthesize(self, text: str) -> bytes:
        with self._lock:
            pcm = self._cache.get(text)
            if pcm is not None:
                self._cache.move_to_end(text)
                self.hits += 1
                return pcm
            self.misses += 1
        # Synthesize outside the lock: two threads may both miss and synthesize the same
        # text once each, which is cheaper than serialising every miss.
        pcm = self._engine.synthesize(text)
        with self._lock:
            self._cache[text] = pcm
            self._cache.move_to_end(text)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return pcm
