"""The audio each utterance's recogniser received, kept for a test run (SPEC §6.5 rule 10).

A harness asks what the server heard, not what the device says it sent: with the setting
`received_audio_dir` (`teddy-server serve --received-audio-dir DIR`; the embedded server of
a scenario sets it to the scenario's `server-audio` folder) every utterance becomes one WAV
(SPEC §7.1) at `<dir>/<device_id>/<n>-<audio_session_id>.wav` with a sidecar `.json`
(`SIDECAR_KEYS`), answered or not. The PCM is what the chat session hands to speech
recognition, so after the chat faults of SPEC §11.4 (`drop_first_chunk` leaves its chunk
out); an utterance refused with `busy` keeps the audio that arrived for it. The sidecar's
`outcome` is one of `OUTCOMES`.

It is a test-run option, never on by default, refused by the production profile, and it
must lie outside the data folder: the `privacy/*` scenarios check that the data folder
holds no child audio, and this folder is the harness's, deleted with the run's artifacts.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from server.errors import ConfigurationError
from server.settings import ServerSettings
from voice.wav import write_wav

SIDECAR_KEYS: Final = (
    "device_id",
    "audio_session_id",
    "bytes",
    "first_chunk_wall_s",
    "end_wall_s",
    "outcome",
)
ANSWERED: Final = "answered"
BUSY: Final = "busy"  # no decoder in time (SPEC §6.5 rule 11)
FAILED: Final = "failed"  # processing_error
UNHEARD: Final = "unheard"  # ended without any audio reaching a recogniser stream
CLOSED: Final = "closed"  # the connection ended with the utterance open
# Discarded by the session: `superseded` or the error code it sent (SPEC §6.3, §6.5).
DISCARDED: Final = (
    "superseded",
    "no_audio_data",
    "audio_too_short",
    "audio_too_long",
    "utterance_timeout",
)
OUTCOMES: Final = (ANSWERED, BUSY, FAILED, UNHEARD, CLOSED, *DISCARDED)
# Ids come from the device: keep only characters that are safe in a file name.
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)[:64] or "_"


def check_received_audio(settings: ServerSettings) -> None:
    """Refuse `received_audio_dir` where SPEC §6.5 rule 10 does not allow it."""
    folder = settings.received_audio_dir
    if folder is None:
        return
    if not settings.development:
        raise ConfigurationError(
            "received_audio_dir writes children's voices to disk for a test run and is for the"
            " development profile only (SPEC §6.5 rule 10); unset it or use --profile development"
        )
    data, target = settings.data_dir.resolve(), folder.resolve()
    if target == data or data in target.parents:
        raise ConfigurationError(
            f"received_audio_dir {folder} is inside the data folder {settings.data_dir}; the data"
            " folder must stay free of audio (SPEC §6.5 rule 10): choose a folder outside it"
        )


@dataclass
class ReceivedUtterance:
    """One utterance's received audio while it is open; `write` makes its two files."""

    device_id: str
    audio_session_id: str
    path: Path  # the WAV; the sidecar is the same stem with .json
    pcm: bytearray = field(default_factory=bytearray)
    first_chunk_wall_s: float | None = None
    end_wall_s: float | None = None

    def add(self, pcm: bytes, now: float) -> None:
        if self.first_chunk_wall_s is None:
            self.first_chunk_wall_s = now
        self.pcm += pcm

    def write(self, outcome: str) -> Path:
        write_wav(self.path, bytes(self.pcm))
        sidecar = {
            "device_id": self.device_id,
            "audio_session_id": self.audio_session_id,
            "bytes": len(self.pcm),
            "first_chunk_wall_s": self.first_chunk_wall_s,
            "end_wall_s": self.end_wall_s,
            "outcome": outcome,
        }
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.path.with_suffix(".json"))
        return self.path


class ReceivedAudio:
    """The server-wide folder: numbers each device's utterances in the order they opened."""

    def __init__(self, root: Path, *, clock: Callable[[], float]) -> None:
        self.root = root
        self.clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def open(self, device_id: str, audio_session_id: str) -> ReceivedUtterance:
        folder = self.root / _safe(device_id)
        with self._lock:
            if device_id not in self._counts:  # a restarted server continues, never overwrites
                self._counts[device_id] = len(list(folder.glob("*.wav"))) if folder.is_dir() else 0
            self._counts[device_id] += 1
            n = self._counts[device_id]
        path = folder / f"{n:05d}-{_safe(audio_session_id)}.wav"
        return ReceivedUtterance(device_id, audio_session_id, path)


def received_audio_for(settings: ServerSettings) -> ReceivedAudio | None:
    """The folder a server with `settings` writes received audio to, or None (the default)."""
    check_received_audio(settings)
    folder = settings.received_audio_dir
    return None if folder is None else ReceivedAudio(folder, clock=settings.clock)
