"""Each utterance leaves a waveform + spectrogram PNG and a measurements JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hil.audio.artifacts import write_artifacts
from hil.audio.measure import measure
from hil.audio.recording import Recording
from tests.hil_audio.signals import voiced

pytestmark = pytest.mark.unit

PNG = b"\x89PNG\r\n\x1a\n"


def test_with_a_reference(tmp_path: Path) -> None:
    ref = voiced()
    played = Recording(ref.samples, 22050, started_at=12.5)
    m = measure(played, ref)
    paths = write_artifacts(
        tmp_path / "audio",
        "reply-1",
        played=played,
        reference=ref,
        measurements=m,
        extra={"transcript": "hello", "violations": ["pitch_ratio = 1.378"]},
    )
    assert paths == [tmp_path / "audio" / "reply-1.png", tmp_path / "audio" / "reply-1.json"]
    assert paths[0].read_bytes().startswith(PNG)
    data = json.loads(paths[1].read_text())
    assert data["measurements"] == m.as_dict()
    assert data["played"] == {
        "rate": 22050,
        "duration_s": 2.6 * 16000 / 22050,
        "started_at": 12.5,
        "path": None,
    }
    assert data["reference"]["rate"] == 16000
    assert data["transcript"] == "hello"


def test_alone_and_degenerate(tmp_path: Path) -> None:
    for stem, samples in (
        ("empty", np.zeros(0)),
        ("short", np.zeros(5)),
        ("one", voiced().samples),
    ):
        rec = Recording(samples, 16000)
        png, doc = write_artifacts(
            tmp_path, stem, played=rec, reference=None, measurements=measure(rec), extra={}
        )
        assert png.read_bytes().startswith(PNG)
        assert json.loads(doc.read_text())["reference"] is None
