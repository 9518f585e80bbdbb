"""Audio as the analysis sees it: :class:`Recording`, loaded from a WAV file or raw PCM.

Owns :class:`Recording` (mono float64 samples in -1..1 full scale at the recording's own
rate), :func:`load_wav`, :func:`from_pcm` and :class:`AudioError`, the root of this
package's exceptions. A recording's rate is the one its WAV header states: for the
speaker output a device writes (``out-<id>.wav``) that is the rate the DAC ran at, which
is how a reply played at the wrong rate (defect 10) shows up in :mod:`hil.audio.measure`.
The sidecar ``<stem>.json`` next to a WAV may hold ``first_sample_wall_s`` (epoch seconds
of ``samples[0]``), which onset latency is measured from.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hil.errors import HilError

PCM_RATE = 16000  # SPEC §7.1: both audio directions are s16le mono 16 kHz


class AudioError(HilError):
    """An audio file or recording that cannot be analysed; the message says why."""


@dataclass(frozen=True)
class Recording:
    """Mono samples (float64, -1..1 full scale) at ``rate`` samples per second."""

    samples: NDArray[np.float64] = field(repr=False)
    rate: int
    started_at: float | None = None  # wall-clock epoch seconds of samples[0], when known
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise AudioError(f"a recording needs a positive sample rate, got {self.rate}")
        if self.samples.ndim != 1:
            raise AudioError(f"a recording is mono (1-D samples), got shape {self.samples.shape}")

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate


def _decode(frames: bytes, width: int, channels: int) -> NDArray[np.float64]:
    """PCM bytes -> mono float64; 8-bit WAV is unsigned around 128, 16-bit signed."""
    usable = len(frames) - len(frames) % (width * channels)  # a file cut mid-sample
    if width == 1:
        raw = np.frombuffer(frames[:usable], dtype=np.uint8).astype(np.float64)
        samples = (raw - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(frames[:usable], dtype="<i2").astype(np.float64) / 32768.0
    else:
        raise AudioError(f"{8 * width}-bit WAV is not supported (8- or 16-bit PCM only)")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples


def _sidecar_start(path: Path) -> float | None:
    """``first_sample_wall_s`` of ``<stem>.json`` beside ``path``, when present and valid."""
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AudioError(f"{sidecar}: not a readable JSON sidecar ({exc})") from exc
    value = data.get("first_sample_wall_s") if isinstance(data, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AudioError(f"{sidecar}: first_sample_wall_s must be a number, got {value!r}")
    return float(value)


def load_wav(path: Path) -> Recording:
    """Any 8- or 16-bit PCM WAV at its own rate (multi-channel is mixed down to mono).

    A header whose sizes were never filled in (a writer that streams, like espeak-ng to a
    pipe) or a data chunk cut mid-sample still loads: ``readframes`` reads what is there.
    """
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError as exc:
        raise AudioError(f"{path}: no such WAV file") from exc
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"{path}: not a readable PCM WAV ({exc})") from exc
    return Recording(_decode(frames, width, channels), rate, _sidecar_start(path), path)


def from_pcm(pcm: bytes, rate: int = PCM_RATE, *, started_at: float | None = None) -> Recording:
    """SPEC §7.1 PCM (s16le mono) as a recording; a trailing odd byte is ignored."""
    return Recording(_decode(bytes(pcm), 2, 1), rate, started_at)


def to_pcm(rec: Recording) -> bytes:
    """The recording as s16le mono at its own rate, saturating at full scale."""
    scaled = np.clip(np.round(rec.samples * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()
