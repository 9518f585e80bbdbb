"""What a played (or heard) utterance must measure: :class:`AudioLimits` and :func:`check`.

Owns the closed vocabulary of audio limits: :data:`_RULES` is its one definition (name,
the measurement it bounds, how, unit, allowed values, meaning); the dataclass fields are
checked against it at import, :data:`SCHEMA` (the JSON Schema of a step's ``limits:``
mapping) and :meth:`AudioLimits.from_mapping` are built from it, and :func:`check` walks
it. ``None`` means "not checked". A measurement that is None (no reference given, or
nothing audible to compare) is not checked either: silence is caught by ``min_rms_dbfs``.

The defaults (:data:`DEFAULT_LIMITS`) fit a spoken reply compared sample for sample with
what the server sent (the speaker output files of the emulator and firmware-host); a
path through a loudspeaker and a microphone needs its own (looser) limits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from hil.audio.measure import Measurements

Kind = Literal["min", "max", "abs_max", "tolerance"]


@dataclass(frozen=True)
class _Rule:
    """One limit: which measurements it bounds, how, and which values it may take."""

    measurements: tuple[str, ...]
    kind: Kind
    unit: str
    low: float
    high: float | None
    meaning: str


_RULES: Final[dict[str, _Rule]] = {
    "min_duration_s": _Rule(("duration_s",), "min", "s", 0, None, "shortest recording"),
    "max_duration_s": _Rule(("duration_s",), "max", "s", 0, None, "longest recording"),
    "min_rms_dbfs": _Rule(
        ("rms_dbfs",), "min", "dBFS", -120, 0, "quietest RMS level of the audible span"
    ),
    "max_clip_ratio": _Rule(
        ("clip_ratio",), "max", "", 0, 1, "largest share of audible samples on a rail"
    ),
    "max_gap_s": _Rule(("longest_gap_s",), "max", "s", 0, None, "longest silence inside"),
    "max_dc_offset": _Rule(("dc_offset",), "abs_max", "", 0, 1, "largest |mean| (full scale 1)"),
    "rate_tolerance": _Rule(
        ("effective_rate_hz", "pitch_ratio"),
        "tolerance",
        "",
        0,
        1,
        "largest relative deviation of the played rate/pitch from the reference's",
    ),
    "min_duration_ratio": _Rule(
        ("duration_ratio",), "min", "", 0, None, "shortest audible span over the reference's"
    ),
    "max_duration_ratio": _Rule(
        ("duration_ratio",), "max", "", 0, None, "longest audible span over the reference's"
    ),
    "min_snr_db": _Rule(("snr_db",), "min", "dB", -200, 200, "lowest SNR against the reference"),
    "max_missing_s": _Rule(
        ("missing_start_s", "missing_end_s"),
        "max",
        "s",
        0,
        None,
        "most reference audio missing at the start or at the end",
    ),
    "max_latency_s": _Rule(
        ("latency_s",), "max", "s", 0, None, "end of the child's speech to first audible sample"
    ),
    "max_wer": _Rule(("wer",), "max", "", 0, None, "largest word error rate of the transcript"),
}


@dataclass(frozen=True)
class AudioLimits:
    """Bounds on :class:`~hil.audio.measure.Measurements`; None = not checked."""

    min_duration_s: float | None = None
    max_duration_s: float | None = None
    min_rms_dbfs: float | None = None
    max_clip_ratio: float | None = None
    max_gap_s: float | None = None
    max_dc_offset: float | None = None
    rate_tolerance: float | None = None
    min_duration_ratio: float | None = None
    max_duration_ratio: float | None = None
    min_snr_db: float | None = None
    max_missing_s: float | None = None
    max_latency_s: float | None = None
    max_wer: float | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, base: AudioLimits) -> AudioLimits:
        """``base`` with the keys of ``data`` replaced (a null value turns a check off)."""
        unknown = sorted(str(k) for k in data if k not in _RULES)
        if unknown:
            raise ValueError(f"unknown audio limit {unknown[0]!r}; valid: {', '.join(_RULES)}")
        changes = {str(key): _value(str(key), value) for key, value in data.items()}
        return dataclasses.replace(base, **changes)

    def checks(self, measurement: str) -> bool:
        """Whether some limit of these bounds `measurement` (one not switched off)."""
        return any(
            getattr(self, name) is not None and measurement in rule.measurements
            for name, rule in _RULES.items()
        )


def _value(key: str, value: object) -> float | None:
    rule = _RULES[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"audio limit {key}: {value!r} is not a number (or null to turn it off)")
    number = float(value)
    if number != number or number < rule.low or (rule.high is not None and number > rule.high):
        top = "" if rule.high is None else f"..{rule.high:g}"
        raise ValueError(f"audio limit {key}: {value!r} is outside {rule.low:g}{top or '..'}")
    return number


# Every measurement some limit bounds, in the order of the limits (`violates:` names these).
CHECKED: Final = tuple(dict.fromkeys(m for rule in _RULES.values() for m in rule.measurements))

_FIELDS = [f.name for f in dataclasses.fields(AudioLimits)]
if list(_RULES) != _FIELDS:  # one vocabulary: the dataclass and the rules name the same limits
    raise AssertionError(f"AudioLimits fields {_FIELDS} differ from the rules {list(_RULES)}")

DEFAULT_LIMITS: Final = AudioLimits(
    min_duration_s=0.2,
    max_duration_s=30.0,  # SPEC §6.6: the longest utterance, 960,000 bytes
    min_rms_dbfs=-45.0,  # espeak-ng speaks at ~-21 dBFS RMS; volume 10 % is -41
    max_clip_ratio=0.005,  # clean speech: < 0.0002; gain 4 saturated: ~0.03
    max_gap_s=1.0,  # espeak-ng pauses up to ~0.45 s between sentences
    max_dc_offset=0.02,
    rate_tolerance=0.02,  # 16000 vs 22050 (defect 10) is 38 %
    min_duration_ratio=0.9,
    max_duration_ratio=1.1,
    min_snr_db=20.0,  # a digital copy at any volume: > 70 dB; gain 4 clipped: ~13 dB
    max_missing_s=0.05,  # under one 128 ms chunk (SPEC §7.2)
    max_latency_s=5.0,
    max_wer=0.3,
)

SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        name: {
            "type": ["number", "null"],
            "minimum": rule.low,
            **({} if rule.high is None else {"maximum": rule.high}),
            "description": f"{rule.meaning} ({', '.join(rule.measurements)}); null: unchecked",
        }
        for name, rule in _RULES.items()
    },
}


@dataclass(frozen=True)
class Violation:
    """A measurement outside its limit; :meth:`text` is the line a failure report shows."""

    measurement: str
    value: float | None
    limit: str  # e.g. "16000 Hz ± 2 % (rate_tolerance 0.02)"
    unit: str = ""

    def text(self) -> str:
        return f"{self.measurement} = {_show(self.value, self.unit)}, limit {self.limit}"


def _show(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    shown = f"{value:.0f}" if unit == "Hz" else f"{value:.4g}" if abs(value) < 1 else f"{value:.3f}"
    shown = shown.rstrip("0").rstrip(".") if "." in shown and "e" not in shown else shown
    return f"{shown} {unit}" if unit else shown


def _violation(
    name: str, rule: _Rule, bound: float, measurement: str, value: float, reference_rate: int
) -> Violation | None:
    unit = "Hz" if measurement == "effective_rate_hz" else rule.unit
    if rule.kind == "tolerance":
        centre = float(reference_rate) if measurement == "effective_rate_hz" else 1.0
        if abs(value - centre) <= bound * centre:
            return None
        limit = f"{_show(centre, unit)} ± {bound * 100:g} % ({name} {bound:g})"
        return Violation(measurement, value, limit, unit)
    if rule.kind == "min":
        bad, sign = value < bound, "≥"
    elif rule.kind == "max":
        bad, sign = value > bound, "≤"
    else:
        bad, sign = abs(value) > bound, "|x| ≤"
    if not bad:
        return None
    return Violation(measurement, value, f"{sign} {_show(bound, rule.unit)} ({name})", unit)


def check(
    m: Measurements,
    limits: AudioLimits,
    *,
    wer: float | None = None,
    latency_s: float | None = None,
    reference_rate: int = 16000,
) -> list[Violation]:
    """Every measurement outside ``limits``, in the order of the limits."""
    values: dict[str, float | None] = {**m.as_dict(), "wer": wer, "latency_s": latency_s}
    found: list[Violation] = []
    for name, rule in _RULES.items():
        bound = getattr(limits, name)
        if bound is None:
            continue
        for measurement in rule.measurements:
            value = values[measurement]
            if value is None:
                continue
            hit = _violation(name, rule, bound, measurement, value, reference_rate)
            if hit is not None:
                found.append(hit)
    return found
