"""Scripted speech-to-text: reproducible transcripts for tests, demos and replays.

Owns :class:`ScriptedSpeechToText`, a real engine behind the same
:class:`~server.speech.interfaces.RecognitionStream` contract as pocketsphinx and vosk
(tests/speech runs one contract suite over all three). It does not listen: it hashes
the PCM a stream receives (SHA-256, updated chunk by chunk as audio arrives) and
answers, in this order,

1. the next transcript queued with :meth:`ScriptedSpeechToText.inject`,
2. the text scripted for that exact audio with :meth:`ScriptedSpeechToText.script`,
3. the ``default`` text (empty unless given).

So a server test can say "this clip means 'tell me a joke'" without a speech model,
and a scenario can replay recorded audio with known transcripts.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Mapping

from server.speech.errors import StreamClosedError
from server.speech.interfaces import Transcript

ENGINE_NAME = "scripted"


def pcm_digest(pcm: bytes) -> str:
    """Lower-case hex SHA-256 of the PCM bytes; the key :meth:`script` uses."""
    return hashlib.sha256(pcm).hexdigest()


class ScriptedSpeechToText:
    """Maps audio (by SHA-256) or injected transcripts to text; thread-safe."""

    def __init__(self, *, default: str = "", scripts: Mapping[str, str] | None = None) -> None:
        self.default = default
        self._scripts: dict[str, str] = {k.lower(): v for k, v in (scripts or {}).items()}
        self._injected: deque[str] = deque()
        self._lock = threading.Lock()
        self.heard: list[str] = []  # digests of finished streams, in finish order

    def script(self, pcm: bytes, text: str) -> str:
        """Make this exact audio be heard as ``text``; returns the audio's digest."""
        digest = pcm_digest(pcm)
        with self._lock:
            self._scripts[digest] = text
        return digest

    def inject(self, *texts: str) -> None:
        """Queue transcripts for the next streams to finish, whatever their audio."""
        with self._lock:
            self._injected.extend(texts)

    def open_stream(self) -> ScriptedStream:
        return ScriptedStream(self)

    def _resolve(self, digest: str) -> str:
        with self._lock:
            self.heard.append(digest)
            if self._injected:
                return self._injected.popleft()
            return self._scripts.get(digest, self.default)


class ScriptedStream:
    """One utterance whose audio is hashed as it arrives."""

    def __init__(self, engine: ScriptedSpeechToText) -> None:
        self._engine = engine
        self._hash: hashlib._Hash | None = hashlib.sha256()
        self._lock = threading.Lock()

    def feed(self, pcm: bytes) -> None:
        with self._lock:
            self._live().update(pcm)

    def finish(self) -> Transcript:
        with self._lock:
            digest = self._live().hexdigest()
            self._hash = None
        text = self._engine._resolve(digest)
        return Transcript(text, 1.0 if text else None, ENGINE_NAME, "open")

    def close(self) -> None:
        with self._lock:
            self._hash = None

    def _live(self) -> hashlib._Hash:
        if self._hash is None:
            raise StreamClosedError("scripted stream already finished or closed")
        return self._hash
