"""The speaker output of one reply: `out-<id>.wav` and its sidecar `out-<id>.json`.

Owns the recording of what the DAC played (SPEC Appendix C's playback quirks show only
here): the `play` effects' PCM scaled by the volume as the DAC scales it, appended as it
plays under a WAV header that carries the DAC's rate and stays true after every append
(a cut reply or a power cut leaves a playable file), and the sidecar `{"sample_rate",
"volume", "first_sample_wall_s" (time.time() when the first sample played), "bytes"}`,
written at the first frame and again at the end. teddy-fw-host writes the same two files
(linux_audio.c); `rx-<id>.wav` (what the server sent) is the Speaker's.
"""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

from protocol.constants import CHANNELS, SAMPLE_WIDTH

_HEADER_BYTES = 44


def wav_header(data_bytes: int, rate: int) -> bytes:
    """The canonical 44-byte header of mono s16le PCM at `rate`."""
    block = CHANNELS * SAMPLE_WIDTH
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, CHANNELS, rate, rate * block, block, 8 * SAMPLE_WIDTH)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class SpeakerOutput:
    """One reply's out-<id>.wav + out-<id>.json, created by its first `play`."""

    def __init__(self, audio_dir: Path, session: str, *, rate: int, volume: int) -> None:
        audio_dir.mkdir(parents=True, exist_ok=True)
        self.wav = audio_dir / f"out-{session}.wav"
        self.sidecar = audio_dir / f"out-{session}.json"
        self.rate = rate
        self.volume = volume
        self.bytes = 0
        self.first_sample_wall_s = time.time()
        self.wav.write_bytes(wav_header(0, rate))
        self.write_sidecar()  # at the first frame already: a cut reply has one

    def append(self, pcm: bytes, *, rate: int, volume: int) -> None:
        """Add what the DAC played (already scaled) and make the header true again."""
        self.rate, self.volume = rate, volume
        whole = pcm[: len(pcm) // 2 * 2]
        with self.wav.open("r+b") as handle:
            handle.seek(_HEADER_BYTES + self.bytes)
            handle.write(whole)
            self.bytes += len(whole)
            handle.seek(0)
            handle.write(wav_header(self.bytes, rate))

    def write_sidecar(self, *, done: bool = False) -> None:
        """`done`: the reply ended (played out or cut); a reader waits for it."""
        facts = {
            "sample_rate": self.rate,
            "volume": self.volume,
            "first_sample_wall_s": self.first_sample_wall_s,
            "bytes": self.bytes,
            "done": done,
        }
        tmp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        tmp.write_text(json.dumps(facts) + "\n", encoding="utf-8")
        os.replace(tmp, self.sidecar)  # a reader never sees half a sidecar
