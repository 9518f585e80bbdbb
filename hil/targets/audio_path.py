"""How the harness hears a toy's speaker and speaks into its microphone: `AudioPath`.

A target with an audio path offers the capability `audio_capture`; `expect_audio` asks
the path for what the speaker played for one reply (`played`). Two kinds exist:

- `SpeakerFiles`: the board writes its speaker output as a WAV file per reply
  (`out-<audio_session_id>.wav`, the WAV's rate being the rate its DAC ran at, with the
  sidecar `out-<id>.json`: `sample_rate`, `volume`, `first_sample_wall_s`, `bytes`,
  `done`). The emulator, the firmware built for the host and the virtual board do this;
  it stands in for a microphone at the speaker, which those boards do not have.
- `SoundCardPath` (hil.targets.soundcard): a sound card records the amplifier's output
  (or a microphone at the speaker) for the whole run and plays into the board's
  microphone or line-in, with a latency calibration.

Times are wall-clock epoch seconds, so they compare across processes (the board, the
server, the harness); the scenario clock converts them (`ScenarioClock.from_wall`).
"""

from __future__ import annotations

import abc
import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.audio.recording import Recording, load_wav
from hil.errors import HilError

OUT_PREFIX: Final = "out-"  # the speaker output of one reply: out-<audio_session_id>.wav
POLL_S: Final = 0.05  # how often a file path looks for a reply that is still playing


class AudioPathError(HilError):
    """The audio path cannot deliver what was asked (no recording, a broken file)."""


@dataclass(frozen=True)
class Window:
    """When a reply can have played, in wall-clock epoch seconds (a sound card needs it)."""

    start: float
    end: float


@dataclass(frozen=True)
class Spoken:
    """When injected audio reached the microphone, in wall-clock epoch seconds."""

    start: float
    end: float


class AudioPath(abc.ABC):
    """What the speaker played, and (when wired) a way to speak into the microphone."""

    description: str = ""
    can_speak: bool = False

    async def open(self) -> None:  # noqa: B027 - an optional hook: files need no opening
        """Start listening (a sound card records from here on)."""

    async def close(self) -> None:  # noqa: B027 - an optional hook, like open
        """Stop listening and free the device."""

    @abc.abstractmethod
    async def played(self, session: str, *, window: Window, within: float) -> Recording:
        """The speaker's output for reply `session`; waits up to `within` s for it to end.

        Raises AudioPathError saying what is missing and where it was looked for.
        """

    async def speak(self, pcm: bytes, rate: int) -> Spoken:
        """Play `pcm` (s16le mono at `rate`) into the microphone."""
        raise AudioPathError(f"{self.description}: nothing is wired to the microphone")


class SpeakerFiles(AudioPath):
    """A board that writes its speaker output as `out-<id>.wav` files in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.description = f"speaker output files in {folder}"

    def paths(self, session: str) -> tuple[Path, Path]:
        stem = self.folder / f"{OUT_PREFIX}{session}"
        return stem.with_suffix(".wav"), stem.with_suffix(".json")

    async def played(self, session: str, *, window: Window, within: float) -> Recording:
        del window  # the file is the reply's own
        wav, sidecar = self.paths(session)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not _finished(sidecar):
            if loop.time() >= deadline:
                state = "still playing" if sidecar.is_file() else "never written"
                raise AudioPathError(
                    f"no finished speaker output for reply {session!r}: {sidecar} is {state}"
                    f" after {within:g} s (the board writes it as the reply plays)"
                )
            await asyncio.sleep(POLL_S)  # a file another process writes: nothing to await
        try:
            return load_wav(wav)
        except (OSError, ValueError) as exc:
            raise AudioPathError(f"speaker output {wav} is not readable: {exc}") from exc


def _finished(sidecar: Path) -> bool:
    """The sidecar says the reply ended (played out, or cut)."""
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # not there yet, or caught mid-write
    return isinstance(data, dict) and data.get("done") is True
