"""Audio limits: one vocabulary, mapping errors that say what is valid, violation texts."""

from __future__ import annotations

import dataclasses

import jsonschema
import pytest

from hil.audio.limits import DEFAULT_LIMITS, SCHEMA, AudioLimits, Violation, check
from hil.audio.measure import Measurements

pytestmark = pytest.mark.unit

GOOD = Measurements(
    duration_s=2.0,
    rms_dbfs=-21.0,
    peak_dbfs=-3.0,
    clip_ratio=0.0,
    longest_gap_s=0.4,
    dc_offset=0.001,
    onset_s=0.3,
    effective_rate_hz=16010.0,
    pitch_ratio=1.0006,
    duration_ratio=1.0,
    snr_db=75.0,
    lag_s=0.3,
    missing_start_s=0.0,
    missing_end_s=0.0,
)


def test_schema_and_dataclass_name_the_same_limits() -> None:
    names = [f.name for f in dataclasses.fields(AudioLimits)]
    assert list(SCHEMA["properties"]) == names
    assert all(getattr(DEFAULT_LIMITS, n) is not None for n in names)  # every default checks
    jsonschema.validate({"max_wer": 0.5, "min_snr_db": None}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"max_werr": 0.5}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"rate_tolerance": 2}, SCHEMA)


def test_from_mapping_replaces_and_turns_off() -> None:
    limits = AudioLimits.from_mapping({"max_wer": 0.5, "min_snr_db": None}, base=DEFAULT_LIMITS)
    assert (limits.max_wer, limits.min_snr_db) == (0.5, None)
    assert limits.max_gap_s == DEFAULT_LIMITS.max_gap_s


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_werr": 0.5}, r"unknown audio limit 'max_werr'; valid: min_duration_s, .*max_wer"),
        ({"max_wer": "low"}, r"max_wer: 'low' is not a number \(or null to turn it off\)"),
        ({"max_gap_s": True}, r"max_gap_s: True is not a number"),
        ({"rate_tolerance": 1.5}, r"rate_tolerance: 1.5 is outside 0..1"),
        ({"max_missing_s": -1}, r"max_missing_s: -1 is outside 0.."),
    ],
)
def test_from_mapping_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AudioLimits.from_mapping(data, base=DEFAULT_LIMITS)


def test_good_measurements_pass() -> None:
    assert check(GOOD, DEFAULT_LIMITS, wer=0.0, latency_s=0.8) == []


def test_violation_texts_name_measurement_value_and_limit() -> None:
    bad = dataclasses.replace(
        GOOD, effective_rate_hz=22050.0, pitch_ratio=1.378, rms_dbfs=-120.0, dc_offset=-0.1
    )
    texts = [v.text() for v in check(bad, DEFAULT_LIMITS, wer=0.6, latency_s=7.5)]
    assert texts == [
        "rms_dbfs = -120 dBFS, limit ≥ -45 dBFS (min_rms_dbfs)",
        "dc_offset = -0.1, limit |x| ≤ 0.02 (max_dc_offset)",
        "effective_rate_hz = 22050 Hz, limit 16000 Hz ± 2 % (rate_tolerance 0.02)",
        "pitch_ratio = 1.378, limit 1 ± 2 % (rate_tolerance 0.02)",
        "latency_s = 7.5 s, limit ≤ 5 s (max_latency_s)",
        "wer = 0.6, limit ≤ 0.3 (max_wer)",
    ]


def test_reference_rate_centres_the_tolerance() -> None:
    m = dataclasses.replace(GOOD, effective_rate_hz=22050.0, pitch_ratio=1.0)
    assert check(m, DEFAULT_LIMITS, reference_rate=22050) == []


def test_none_is_not_checked() -> None:
    silent = dataclasses.replace(GOOD, effective_rate_hz=None, pitch_ratio=None, snr_db=None)
    assert check(silent, DEFAULT_LIMITS) == []  # wer/latency None too
    off = AudioLimits()
    worst = dataclasses.replace(GOOD, rms_dbfs=-120.0, clip_ratio=1.0, snr_db=-50.0)
    assert check(worst, off, wer=1.0, latency_s=100.0) == []
    assert Violation("snr_db", None, "≥ 20 dB (min_snr_db)").text().startswith("snr_db = not")
