"""What a recording sounds like, alone and against what the server sent: :func:`measure`.

Owns :class:`Measurements` and :func:`measure`. Every value is a plain float/int/None
(JSON as it is); levels are dB relative to full scale, with silence floored at
:data:`DBFS_FLOOR` so a muted reply is a number, not ``-inf``.

Audible. The recording is cut into 10 ms frames; a frame is audible when its level (DC
removed) is over -55 dBFS and within 40 dB of the loudest frame, so a noise floor under
loud speech does not count as speech. ``onset_s`` is the first audible frame, the
*audible span* runs from there to the end of the last audible frame, and gaps are runs
of inaudible frames inside the span (espeak-ng pauses at most ~0.45 s between sentences).

Against a reference (what the server sent, SPEC §7.1):

- ``pitch_ratio``: how far the played spectrum is shifted from the reference's, by
  cross-correlating their long-term log spectra on a log-frequency axis (playing samples
  at R Hz instead of the reference rate scales every frequency by R / rate: defect 10).
  ``effective_rate_hz`` is the reference rate times that ratio: the rate the reference's
  samples were actually played at. Dropped frames, clipping or volume do not shift it.
- ``duration_ratio``: played audible span over the reference's (a reply cut short, or
  frames dropped, is shorter; one played too slowly is longer).
- ``lag_s``: where the reference's first sample lies in the played recording, from the
  peak of their cross-correlation after undoing a pitch shift (positive: played later).
  ``missing_start_s`` / ``missing_end_s``: reference audio before the played recording
  starts / after it ends at that alignment (a lost first chunk, a cut tail).
- ``snr_db``: the reference scaled by its least-squares gain (so volume does not count)
  over what differs from it, where the two overlap; capped at :data:`SNR_CAP_DB`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.signal import correlate, resample_poly, welch

from hil.audio.recording import Recording

DBFS_FLOOR = -120.0  # below 16-bit quantisation (~-96 dBFS): "nothing at all"
SNR_CAP_DB = 100.0  # an exact copy (no error at all) reports this
FRAME_S = 0.01
AUDIBLE_FLOOR_DBFS = -55.0
AUDIBLE_RANGE_DB = 40.0  # a frame this far below the loudest one is not speech
CLIP_TOLERANCE = 2.0 / 32768  # a sample within 2 LSB of its rail's extreme sits on it
_F_REF = (150.0, 3500.0)  # the reference band compared (speech formants and harmonics)
_LOG_STEP = 0.002  # log-frequency grid step: 0.2 % of frequency
_MAX_SHIFT = math.log(2.0)  # pitch ratios searched: 0.5 .. 2
_COMPENSATE_ABOVE = 0.005  # undo a pitch shift larger than 0.5 % before aligning

Samples = NDArray[np.float64]


@dataclass(frozen=True)
class Measurements:
    """One recording's measured values; the reference-based ones are None without one."""

    duration_s: float
    rms_dbfs: float
    peak_dbfs: float
    clip_ratio: float
    longest_gap_s: float
    dc_offset: float
    onset_s: float | None
    effective_rate_hz: float | None = None
    pitch_ratio: float | None = None
    duration_ratio: float | None = None
    snr_db: float | None = None
    lag_s: float | None = None
    missing_start_s: float | None = None
    missing_end_s: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def dbfs(power: float) -> float:
    """A mean square (full scale = 1) in dBFS, floored at :data:`DBFS_FLOOR`."""
    return max(DBFS_FLOOR, 10.0 * math.log10(power)) if power > 0 else DBFS_FLOOR


@dataclass(frozen=True)
class _Span:
    """The audible frames of a recording: mask per frame and first/last sample index."""

    audible: NDArray[np.bool_]
    frame: int
    start: int
    end: int  # exclusive; start == end when nothing is audible


def _span(centred: Samples, rate: int) -> _Span:
    frame = max(1, round(rate * FRAME_S))
    count = len(centred) // frame
    if count == 0:
        return _Span(np.zeros(0, dtype=bool), frame, 0, 0)
    power = np.mean(centred[: count * frame].reshape(count, frame) ** 2, axis=1)
    levels = 10.0 * np.log10(np.maximum(power, 1e-30))
    audible = levels > max(AUDIBLE_FLOOR_DBFS, float(levels.max()) - AUDIBLE_RANGE_DB)
    hits = np.flatnonzero(audible)
    if hits.size == 0:
        return _Span(audible, frame, 0, 0)
    return _Span(audible, frame, int(hits[0]) * frame, (int(hits[-1]) + 1) * frame)


def _longest_gap(span: _Span) -> int:
    """Longest run of inaudible frames between the first and last audible one."""
    inside = span.audible[span.start // span.frame : span.end // span.frame]
    if inside.size == 0:
        return 0
    edges = np.flatnonzero(np.diff(np.concatenate(([1], inside.astype(np.int8), [1]))))
    runs = edges[1::2] - edges[::2]  # (start of silence, end of silence) pairs
    return int(runs.max()) if runs.size else 0


def _clip_ratio(samples: Samples, span: _Span) -> float:
    """Share of the audible span sitting on a rail (its positive or negative extreme).

    Measured against the recording's own extremes, not full scale, because the speaker
    output has the volume applied after saturation (a clipped reply at volume 70 % has
    its flat tops at 70 %). Clean speech touches its extremes in a handful of samples.
    """
    if span.end == span.start:
        return 0.0
    part = samples[span.start : span.end]
    top, bottom = float(part.max()), float(part.min())
    floor = 10 ** (AUDIBLE_FLOOR_DBFS / 20)
    on_top = np.count_nonzero(part >= top - CLIP_TOLERANCE) if top > floor else 0
    on_bottom = np.count_nonzero(part <= bottom + CLIP_TOLERANCE) if bottom < -floor else 0
    return float(on_top + on_bottom) / len(part)


def _resample(samples: Samples, ratio: Fraction) -> Samples:
    """``samples`` resampled by ``ratio`` (output length ~ len * ratio)."""
    if ratio == 1 or samples.size == 0:
        return samples
    out: Samples = resample_poly(samples, ratio.numerator, ratio.denominator)
    return out


def _log_spectrum(samples: Samples, rate: int, low: float, high: float) -> Samples:
    segment = min(len(samples), 1 << max(4, round(math.log2(rate * 0.064))))
    freqs, power = welch(samples, fs=rate, nperseg=segment, noverlap=segment // 2)
    grid = np.arange(math.log(low), math.log(high), _LOG_STEP)
    out: Samples = np.interp(grid, np.log(np.maximum(freqs, 1e-9)), np.log(power + 1e-20))
    return out


def pitch_ratio(played: Samples, reference: Samples, rate: int) -> float | None:
    """Frequency scale of ``played`` over ``reference`` (both at ``rate``); None if flat."""
    low, high = _F_REF
    template = _log_spectrum(reference, rate, low, high)
    wide = _log_spectrum(played, rate, low / 2, min(high * 2, rate / 2))
    if template.std() == 0 or len(wide) < len(template):
        return None
    windows = sliding_window_view(wide, len(template))
    spread = windows.std(axis=1)
    spread[spread == 0] = np.inf
    score = (windows - windows.mean(axis=1, keepdims=True)) @ (template - template.mean())
    score = score / (spread * template.std() * len(template))
    best = int(np.argmax(score))
    offset = 0.0
    if 0 < best < len(score) - 1:  # parabolic peak between grid points
        a, b, c = score[best - 1], score[best], score[best + 1]
        offset = 0.5 * float(a - c) / float(a - 2 * b + c) if a - 2 * b + c != 0 else 0.0
    return math.exp((best + offset) * _LOG_STEP - math.log(2.0))


def _alignment(played: Samples, reference: Samples) -> tuple[int, float]:
    """Lag (samples) of reference[0] in played, and the SNR (dB) where they overlap."""
    score = correlate(played, reference, mode="full", method="fft")
    lag = int(np.argmax(score)) - (len(reference) - 1)
    first, last = max(0, -lag), min(len(reference), len(played) - lag)
    if last <= first:
        return lag, DBFS_FLOOR
    ref_part = reference[first:last]
    got = played[first + lag : last + lag]
    energy = float(ref_part @ ref_part)
    if energy == 0:
        return lag, DBFS_FLOOR
    fitted = ref_part * (float(got @ ref_part) / energy)
    error = float(np.sum((got - fitted) ** 2))
    signal = float(fitted @ fitted)
    if error == 0:
        return lag, SNR_CAP_DB
    return lag, min(SNR_CAP_DB, 10.0 * math.log10(signal / error)) if signal > 0 else DBFS_FLOOR


def _against(played: Recording, span: _Span, reference: Recording) -> dict[str, float | None]:
    """The reference-based measurements, in the reference's time base and rate."""
    rate = reference.rate
    if reference.samples.size == 0 or span.end == span.start:
        return {}  # nothing to compare (a silent recording is caught by its level)
    ref = reference.samples - reference.samples.mean()
    ref_span = _span(ref, rate)
    got = _resample(played.samples - played.samples.mean(), Fraction(rate, played.rate))
    if ref_span.end == ref_span.start:
        return {}
    ratio = pitch_ratio(got, ref, rate)
    played_span_s = (span.end - span.start) / played.rate
    out: dict[str, float | None] = {
        "pitch_ratio": ratio,
        "effective_rate_hz": None if ratio is None else rate * ratio,
        "duration_ratio": played_span_s / ((ref_span.end - ref_span.start) / rate),
    }
    if ratio is not None and abs(ratio - 1.0) > _COMPENSATE_ABOVE:
        got = _resample(got, Fraction(ratio).limit_denominator(400))  # back to reference time
    lag, snr = _alignment(got, ref)
    out["lag_s"] = lag / rate
    out["snr_db"] = snr
    out["missing_start_s"] = max(0, -lag) / rate
    out["missing_end_s"] = max(0, len(ref) - (len(got) - lag)) / rate
    return out


def measure(played: Recording, reference: Recording | None = None) -> Measurements:
    """Measure ``played``; with ``reference`` (what was sent) also compare it with that."""
    samples = played.samples
    dc = float(samples.mean()) if samples.size else 0.0
    centred = samples - dc
    span = _span(centred, played.rate)
    body = centred[span.start : span.end] if span.end > span.start else centred
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    against = _against(played, span, reference) if reference is not None else {}
    return Measurements(
        duration_s=played.duration_s,
        rms_dbfs=dbfs(float(np.mean(body**2))) if body.size else DBFS_FLOOR,
        peak_dbfs=dbfs(peak * peak),
        clip_ratio=_clip_ratio(samples, span),
        longest_gap_s=_longest_gap(span) * span.frame / played.rate,
        dc_offset=dc,
        onset_s=span.start / played.rate if span.end > span.start else None,
        **against,
    )


def onset_latency_s(played: Recording, m: Measurements, speech_end_wall_s: float) -> float | None:
    """Seconds from the end of the child's speech (wall clock) to the first audible sample.

    None when the recording's start time is unknown or nothing in it is audible.
    """
    if played.started_at is None or m.onset_s is None:
        return None
    return played.started_at + m.onset_s - speech_end_wall_s
