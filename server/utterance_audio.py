"""Child audio at rest: the server keeps none unless told to (SPEC §6.5 rule 10).

Utterance audio lives in memory while it is recognised. Only a server started with
`keep_utterance_audio` (a development setting for debugging speech recognition) writes it,
one WAV per utterance under `<data_dir>/utterances/<device_id>/`; the production profile
refuses that setting (`check_retention`), because a children's product must not collect
voice recordings nobody asked for (COPPA; the original saved every utterance, defect 24).
Scenarios check the data folder with `expect_files`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from protocol.server_quirks import KEEP_EVERY_UTTERANCE
from server.errors import ConfigurationError
from server.settings import ServerSettings
from voice.wav import write_wav

UTTERANCE_DIR: Final = "utterances"
# Ids come from the device: keep only characters that are safe in a file name.
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


def check_retention(settings: ServerSettings) -> None:
    """Refuse settings that would keep child audio where SPEC §6.5 rule 10 forbids it."""
    if settings.keep_utterance_audio and not settings.development:
        raise ConfigurationError(
            "keep_utterance_audio writes children's voices to disk and is for the development"
            " profile only (SPEC §6.5 rule 10); unset it or use --profile development"
        )


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)[:64] or "_"


class UtteranceAudioKeeper:
    """Writes each finished utterance's PCM as `<device_id>/<n>-<audio_session_id>.wav`."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / UTTERANCE_DIR
        self._count = 0

    def keep(self, device_id: str, audio_session_id: str, pcm: bytes) -> Path:
        # A per-process counter orders the files and keeps a reused id from overwriting.
        self._count += 1
        path = self.root / _safe(device_id) / f"{self._count:05d}-{_safe(audio_session_id)}.wav"
        write_wav(path, pcm)
        return path


def keeper_for(settings: ServerSettings) -> UtteranceAudioKeeper | None:
    """The keeper a server with `settings` uses, or None: nothing is written."""
    check_retention(settings)
    # Quirk keep_every_utterance (defect 24): the original saved every utterance.
    keep = settings.keep_utterance_audio or KEEP_EVERY_UTTERANCE in settings.quirks
    return UtteranceAudioKeeper(settings.data_dir) if keep else None
