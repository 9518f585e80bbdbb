"""Measurements on pure synthetic signals: each one moves with its defect and only with it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import resample_poly

from hil.audio.limits import DEFAULT_LIMITS, check
from hil.audio.measure import DBFS_FLOOR, SNR_CAP_DB, measure, onset_latency_s
from hil.audio.recording import Recording
from tests.hil_audio.signals import BROKEN, PASSING, voiced

pytestmark = pytest.mark.unit


def test_alone() -> None:
    rec = voiced(2.0)
    m = measure(rec)
    assert m.duration_s == pytest.approx(2.6)
    assert -30 < m.rms_dbfs < -10
    assert m.peak_dbfs < -1
    assert m.clip_ratio < 0.001
    assert abs(m.dc_offset) < 0.001
    assert m.onset_s == pytest.approx(0.3, abs=0.02)
    assert m.longest_gap_s < 0.3
    assert m.pitch_ratio is None and m.snr_db is None  # no reference, nothing compared
    json.dumps(m.as_dict())  # plain values only


def test_against_itself() -> None:
    rec = voiced()
    m = measure(rec, rec)
    assert m.pitch_ratio == pytest.approx(1.0, abs=0.002)
    assert m.effective_rate_hz == pytest.approx(16000, rel=0.002)
    assert (m.duration_ratio, m.snr_db, m.lag_s) == (1.0, SNR_CAP_DB, 0.0)
    assert (m.missing_start_s, m.missing_end_s) == (0.0, 0.0)
    assert check(m, DEFAULT_LIMITS) == []


@pytest.mark.parametrize("rate", [12000, 22050, 24000])
def test_effective_rate_follows_the_playback_rate(rate: int) -> None:
    ref = voiced()
    m = measure(Recording(ref.samples, rate), ref)
    assert m.effective_rate_hz == pytest.approx(rate, rel=0.003)
    assert m.duration_ratio == pytest.approx(16000 / rate, rel=0.02)


def test_a_correctly_resampled_reply_is_not_a_rate_error() -> None:
    ref = voiced()
    m = measure(Recording(resample_poly(ref.samples, 3, 1), 48000), ref)
    assert m.effective_rate_hz == pytest.approx(16000, rel=0.003)
    assert m.snr_db is not None and m.snr_db > 30
    assert check(m, DEFAULT_LIMITS) == []


def test_silence_and_empty() -> None:
    for rec in (Recording(np.zeros(16000), 16000), Recording(np.zeros(0), 16000)):
        m = measure(rec, voiced())
        assert (m.rms_dbfs, m.peak_dbfs, m.clip_ratio, m.onset_s) == (
            DBFS_FLOOR,
            DBFS_FLOOR,
            0.0,
            None,
        )
        assert m.pitch_ratio is None and m.missing_start_s is None
        assert {v.measurement for v in check(m, DEFAULT_LIMITS)} >= {"rms_dbfs"}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_defect_fails_on_a_synthetic_voice(name: str) -> None:
    ref = voiced(3.0)
    breaker, expected = BROKEN[name]
    failed = {v.measurement for v in check(measure(breaker(ref), ref), DEFAULT_LIMITS)}
    assert expected <= failed, (name, failed)


@pytest.mark.parametrize("name", sorted(PASSING))
def test_the_good_copies_pass_on_a_synthetic_voice(name: str) -> None:
    ref = voiced(3.0)
    m = measure(PASSING[name](ref), ref)
    assert check(m, DEFAULT_LIMITS) == [], m


def test_a_noise_floor_under_the_speech_is_not_speech() -> None:
    ref = voiced()
    noise = np.random.default_rng(1).normal(0, 10 ** (-60 / 20), len(ref.samples))
    m = measure(Recording(ref.samples + noise, ref.rate), ref)
    assert m.onset_s == pytest.approx(0.3, abs=0.02)
    assert check(m, DEFAULT_LIMITS) == []


def test_onset_latency_from_the_wall_clock() -> None:
    ref = voiced(lead_s=0.5)
    late = Recording(ref.samples, ref.rate, started_at=1000.0)
    m = measure(late)
    assert onset_latency_s(late, m, speech_end_wall_s=999.0) == pytest.approx(1.5, abs=0.02)
    assert onset_latency_s(ref, measure(ref), 999.0) is None  # start time unknown
