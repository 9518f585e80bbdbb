"""Recordings load from any 8/16-bit PCM WAV at its own rate, with the sidecar's start time."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from hil.audio.recording import AudioError, Recording, from_pcm, load_wav, to_pcm

pytestmark = pytest.mark.unit


def _write(path: Path, frames: bytes, *, rate: int, width: int = 2, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


def test_16_bit_wav_at_its_own_rate(tmp_path: Path) -> None:
    pcm = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    rec = load_wav(_write(tmp_path / "out-1.wav", pcm, rate=22050))
    assert rec.rate == 22050
    assert rec.samples.tolist() == [0.0, 0.5, -1.0, 32767 / 32768]
    assert rec.duration_s == pytest.approx(4 / 22050)
    assert rec.started_at is None
    assert rec.path == tmp_path / "out-1.wav"


def test_8_bit_and_stereo(tmp_path: Path) -> None:
    rec = load_wav(_write(tmp_path / "a.wav", bytes([128, 192, 0, 255]), rate=8000, width=1))
    assert rec.samples.tolist() == [0.0, 0.5, -1.0, 127 / 128]
    stereo = np.array([16384, 0, -16384, -16384], dtype="<i2").tobytes()
    rec = load_wav(_write(tmp_path / "s.wav", stereo, rate=48000, channels=2))
    assert rec.samples.tolist() == [0.25, -0.5]


def test_sidecar_start_time(tmp_path: Path) -> None:
    path = _write(tmp_path / "out-7.wav", bytes(320), rate=16000)
    path.with_suffix(".json").write_text(
        json.dumps({"sample_rate": 16000, "volume": 70, "first_sample_wall_s": 1765150000.25})
    )
    assert load_wav(path).started_at == 1765150000.25


def test_a_bad_sidecar_is_an_error_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "out-7.wav", bytes(320), rate=16000)
    path.with_suffix(".json").write_text('{"first_sample_wall_s": "soon"}')
    with pytest.raises(AudioError, match=r"out-7\.json: first_sample_wall_s must be a number"):
        load_wav(path)


def test_a_file_cut_mid_sample_loads_what_is_there(tmp_path: Path) -> None:
    path = _write(tmp_path / "cut.wav", np.arange(10, dtype="<i2").tobytes(), rate=16000)
    path.write_bytes(path.read_bytes()[:-3])  # the header still claims 10 samples
    assert len(load_wav(path).samples) == 8


def test_not_a_wav_and_no_file(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_bytes(b"not a wav at all")
    with pytest.raises(AudioError, match="not a readable PCM WAV"):
        load_wav(tmp_path / "x.wav")
    with pytest.raises(AudioError, match="no such WAV file"):
        load_wav(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="24-bit WAV is not supported"):
        load_wav(_write(tmp_path / "w.wav", bytes(6), rate=16000, width=3))


def test_pcm_round_trip_and_bad_rate() -> None:
    pcm = np.array([1, -2, 300], dtype="<i2").tobytes()
    rec = from_pcm(pcm + b"\x01", started_at=5.0)
    assert (rec.rate, rec.started_at, to_pcm(rec)) == (16000, 5.0, pcm)
    with pytest.raises(AudioError, match="positive sample rate"):
        Recording(np.zeros(3), 0)
