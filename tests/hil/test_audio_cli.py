"""`teddy-hil audio judge`: a recording judged from the command line, like expect_audio."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from hil.cli import main
from voice.espeak import synthesize_clip

pytestmark = pytest.mark.emu  # espeak-ng runs as a subprocess


def wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return path


def test_a_clean_copy_passes_and_a_fast_one_names_its_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    words = "tell me about dinosaurs"
    sent = np.frombuffer(synthesize_clip(words), dtype="<i2").astype(np.float64)
    reference = wav(tmp_path / "sent.wav", sent)
    clean = wav(tmp_path / "clean.wav", sent * 0.7)
    args = ["--reference", str(reference), "--text", words, "--out", str(tmp_path / "out")]
    assert main(["audio", "judge", str(clean), *args]) == 0
    shown = capsys.readouterr().out
    assert "VIOLATION" not in shown and "wer: 0.0" in shown
    assert (tmp_path / "out" / "reply-clean.png").is_file()
    fast = wav(tmp_path / "fast.wav", sent, rate=22050)  # the same samples, played too fast
    assert main(["audio", "judge", str(fast), *args]) == 1
    shown = capsys.readouterr().out
    assert "VIOLATION effective_rate_hz" in shown


def test_a_bad_limit_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    played = wav(tmp_path / "p.wav", np.zeros(16000))
    assert main(["audio", "judge", str(played), "--limit", "loudness"]) == 2
    assert "write NAME=VALUE" in capsys.readouterr().err
