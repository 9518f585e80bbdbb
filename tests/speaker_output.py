"""What the speaker should have played of a reply, and the check of out-<id>.wav against it.

Shared by the emulator's and the firmware-host's speaker tests (SPEC Appendix C): the
speaker output `out-<id>.wav` must be `rx-<id>.wav` (what the server sent, in 4096-byte
frames, SPEC §7.3) with the playback quirk applied, scaled by the volume (truncated toward
zero, as the DAC scales), under a header at the DAC's rate, and its sidecar
`out-<id>.json` must say so. The model here is written from SPEC, not from either core.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from protocol.constants import DOWNLINK_PCM_BYTES, SAMPLE_RATE

Samples = npt.NDArray[np.int64]
FRAME_SAMPLES = DOWNLINK_PCM_BYTES // 2

# (quirk, value) of each case; None: no quirk.
CASES: tuple[tuple[str, str] | None, ...] = (
    None,
    ("playback_rate", "22050"),
    ("drop_frames", "5"),
    ("playback_gain", "4"),
    ("mute_playback", ""),
)


@dataclass(frozen=True)
class Wav:
    rate: int
    samples: Samples


def read_wav(path: Path) -> Wav:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2), path
        data = wav.readframes(wav.getnframes())
        return Wav(wav.getframerate(), np.frombuffer(data, "<i2").astype(np.int64))


def expected_output(rx: Samples, case: tuple[str, str] | None, volume: int) -> Wav:
    """What the DAC plays of `rx` with the case's quirk at `volume` (SPEC Appendix C)."""
    played, rate = rx.copy(), SAMPLE_RATE
    if case is not None:
        quirk, value = case
        if quirk == "playback_rate":
            rate = int(value)
        elif quirk == "drop_frames":
            every = int(value)
            frames = [rx[i : i + FRAME_SAMPLES] for i in range(0, len(rx), FRAME_SAMPLES)]
            kept = [f for seq, f in enumerate(frames) if seq % every != every - 1]
            played = np.concatenate(kept) if kept else rx[:0]
        elif quirk == "playback_gain":
            played = np.clip(rx * int(value), -32768, 32767)
        elif quirk == "mute_playback":
            played = np.zeros_like(rx)
    scaled = played * volume
    return Wav(rate, np.where(scaled < 0, -(-scaled // 100), scaled // 100))


def check_output(
    audio_dir: Path,
    session: str,
    case: tuple[str, str] | None,
    *,
    volume: int,
    played_between: tuple[float, float],
) -> str | None:
    """What is wrong with out-<session>.wav/.json for the case (None when it is right)."""
    rx = read_wav(audio_dir / f"rx-{session}.wav")
    if rx.rate != SAMPLE_RATE:
        return f"rx-{session}.wav is at {rx.rate} Hz"
    out = read_wav(audio_dir / f"out-{session}.wav")
    want = expected_output(rx.samples, case, volume)
    if out.rate != want.rate:
        return f"out-{session}.wav header says {out.rate} Hz, want {want.rate}"
    if len(out.samples) != len(want.samples):
        return f"out-{session}.wav has {len(out.samples)} samples, want {len(want.samples)}"
    differ = np.flatnonzero(out.samples != want.samples)
    if differ.size:
        i = int(differ[0])
        return (
            f"out-{session}.wav differs from the model at {differ.size} samples, first at"
            f" {i}: {out.samples[i]} != {want.samples[i]}"
        )
    facts = json.loads((audio_dir / f"out-{session}.json").read_text(encoding="utf-8"))
    want_facts = {
        "sample_rate": want.rate,
        "volume": volume,
        "bytes": 2 * len(want.samples),
        "done": True,
    }
    if {k: facts.get(k) for k in want_facts} != want_facts:
        return f"out-{session}.json says {facts}, want {want_facts}"
    low, high = played_between
    first = facts.get("first_sample_wall_s")
    if not isinstance(first, float) or not low <= first <= high:
        return f"first_sample_wall_s {first} is not within {low}..{high}"
    return None
