"""Per-utterance evidence: ``<stem>.png`` (waveform + spectrogram) and ``<stem>.json``.

Owns :func:`write_artifacts`. The picture has the waveform and the spectrogram of the
played (or heard) recording, and of the reference beside it when there is one, on the
same time and frequency scales, so a reply played too fast, cut short or clipped is seen
at a glance. It is drawn with matplotlib's object API on the Agg canvas (no pyplot, no
display, no global state; thread-safe), imported on first use because the import costs
~0.3 s. The waveform is drawn as a per-pixel min/max envelope and the spectrogram as an
image, which keeps a 30 s utterance as cheap as a short one. The JSON holds the
measurements, the recordings' rates, durations and paths, and ``extra`` (transcript,
WER, limits, violations: whatever the caller decides).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import spectrogram

from hil.audio.measure import Measurements
from hil.audio.recording import Recording

_COLUMNS = 1200  # waveform envelope points (~ the picture's width in pixels)
_WIDTH_IN, _ROW_IN, _DPI = 10.0, 1.8, 90


def _envelope(rec: Recording) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[Any]]:
    """Times and per-column minimum/maximum of the samples."""
    count = len(rec.samples)
    step = max(1, math.ceil(count / _COLUMNS))
    usable = count - count % step
    if usable == 0:
        zero = np.zeros(1)
        return zero, zero, zero
    blocks = rec.samples[:usable].reshape(-1, step)
    times = (np.arange(blocks.shape[0]) * step + step / 2) / rec.rate
    return blocks.min(axis=1), blocks.max(axis=1), times


def _draw(fig: Any, rows: list[tuple[str, Recording]], length_s: float) -> None:
    axes = fig.subplots(2 * len(rows), 1, sharex=True, squeeze=False)[:, 0]
    for index, (title, rec) in enumerate(rows):
        wave_ax, spec_ax = axes[2 * index], axes[2 * index + 1]
        low, high, times = _envelope(rec)
        wave_ax.fill_between(times, low, high, linewidth=0.5, color="tab:blue")
        wave_ax.set_ylim(-1.0, 1.0)
        wave_ax.set_ylabel("full scale")
        wave_ax.set_title(f"{title}: {rec.rate} Hz, {rec.duration_s:.2f} s", fontsize=9)
        segment = min(512, max(16, len(rec.samples)))
        if len(rec.samples) >= 16:
            freqs, seg_t, power = spectrogram(rec.samples, fs=rec.rate, nperseg=segment)
            level = 10 * np.log10(power + 1e-12)
            spec_ax.imshow(
                level,
                origin="lower",
                aspect="auto",
                extent=(0.0, rec.duration_s, 0.0, float(freqs[-1])),
                vmin=float(level.max()) - 80,
                cmap="magma",
                interpolation="nearest",
            )
            del seg_t
        spec_ax.set_ylim(0, 8000)
        spec_ax.set_ylabel("Hz")
    axes[-1].set_xlim(0, max(length_s, 1e-3))
    axes[-1].set_xlabel("seconds")


def _picture(path: Path, played: Recording, reference: Recording | None) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [("played", played)] + ([("reference", reference)] if reference is not None else [])
    fig = Figure(figsize=(_WIDTH_IN, _ROW_IN * 2 * len(rows)), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    _draw(fig, rows, max(rec.duration_s for _, rec in rows))
    fig.savefig(path)


def _about(rec: Recording) -> dict[str, object]:
    return {
        "rate": rec.rate,
        "duration_s": rec.duration_s,
        "started_at": rec.started_at,
        "path": None if rec.path is None else str(rec.path),
    }


def write_artifacts(
    folder: Path,
    stem: str,
    *,
    played: Recording,
    reference: Recording | None,
    measurements: Measurements,
    extra: Mapping[str, object],
) -> list[Path]:
    """Write ``<folder>/<stem>.png`` and ``<stem>.json``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    picture, data = folder / f"{stem}.png", folder / f"{stem}.json"
    _picture(picture, played, reference)
    document = {
        "measurements": measurements.as_dict(),
        "played": _about(played),
        "reference": None if reference is None else _about(reference),
        **extra,
    }
    data.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return [picture, data]
