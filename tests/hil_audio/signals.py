"""Shared by the audio tests: a speech-like synthetic signal and the defects of issue 14.

`voiced` is harmonic bursts (a 120 Hz voice with formant-like weights, syllables of
~200 ms, pauses between them) for the pure-signal (unit) tests; `BROKEN` builds each
defect from any reference, so the espeak-ng (emu) tests apply the same ones to real speech.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hil.audio.recording import Recording

RATE = 16000
CHUNK = 2048  # samples of one 4096-byte audio chunk / response frame (SPEC §7.2)


def voiced(seconds: float = 2.0, *, lead_s: float = 0.3, rate: int = RATE) -> Recording:
    """Syllable-like harmonic bursts between `lead_s` of silence each side."""
    t = np.arange(round(seconds * rate)) / rate
    pitch = 120.0 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    tone = sum(np.sin(k * phase) / k * (1.5 if k in (4, 5, 12) else 1.0) for k in range(1, 25))
    syllables = np.clip(np.sin(2 * np.pi * 2.2 * t), 0, None) ** 0.5
    speech = 0.25 * tone * syllables  # peak ~0.49 (-6 dBFS), like espeak-ng at -3.4
    lead = np.zeros(round(lead_s * rate))
    return Recording(np.round(np.concatenate([lead, speech, lead]) * 32768) / 32768, rate)


def _same_rate(ref: Recording, samples: np.ndarray) -> Recording:
    return Recording(np.asarray(samples, dtype=np.float64), ref.rate)


def _drop_fifth(ref: Recording) -> Recording:
    frames = [ref.samples[i : i + CHUNK] for i in range(0, len(ref.samples), CHUNK)]
    return _same_rate(ref, np.concatenate([f for i, f in enumerate(frames) if i % 5 != 4]))


def _gap(ref: Recording) -> Recording:
    mid = len(ref.samples) // 2
    pause = np.zeros(round(1.5 * ref.rate))
    return _same_rate(ref, np.concatenate([ref.samples[:mid], pause, ref.samples[mid:]]))


def _volume(ref: Recording, percent: int) -> Recording:
    """As the emulator's DAC volume scales s16 samples (integer, floor)."""
    return _same_rate(ref, np.floor(ref.samples * 32768 * percent / 100) / 32768)


BROKEN: dict[str, tuple[Callable[[Recording], Recording], set[str]]] = {
    # defect -> (how to break the reference, measurements that must fail)
    "rate_22050": (
        lambda r: Recording(r.samples, 22050),
        {"effective_rate_hz", "pitch_ratio"},
    ),
    "every_fifth_frame_dropped": (_drop_fifth, {"duration_ratio", "snr_db"}),
    "gain_4_saturated": (
        lambda r: _same_rate(r, np.clip(r.samples * 4, -1.0, 32767 / 32768)),
        {"clip_ratio"},
    ),
    "gain_4_saturated_at_volume_70": (
        lambda r: _volume(_same_rate(r, np.clip(r.samples * 4, -1.0, 32767 / 32768)), 70),
        {"clip_ratio"},
    ),
    "silence": (lambda r: _same_rate(r, np.zeros_like(r.samples)), {"rms_dbfs"}),
    "first_half_only": (
        lambda r: _same_rate(r, r.samples[: len(r.samples) // 2]),
        {"duration_ratio", "missing_end_s"},
    ),
    "first_chunk_missing": (
        lambda r: _same_rate(r, r.samples[CHUNK:]),
        {"missing_start_s"},
    ),
    "dc_offset": (lambda r: _same_rate(r, r.samples + 0.1), {"dc_offset"}),
    "long_gap": (_gap, {"longest_gap_s"}),
}

PASSING: dict[str, Callable[[Recording], Recording]] = {
    "clean": lambda r: r,
    "volume_70": lambda r: _volume(r, 70),
    "delayed_300ms": lambda r: _same_rate(
        r, np.concatenate([np.zeros(round(0.3 * r.rate)), r.samples])
    ),
}
