"""The clip library (SPEC §9.2) is one table: voice.clips, and the C host port's copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice.clips import CLIP_LIBRARY

pytestmark = pytest.mark.unit

CAPTURE_C = (
    Path(__file__).resolve().parents[2]
    / "firmware/components/teddy_port/port_linux/linux_capture.c"
)


def c_clips() -> dict[str, str]:
    text = CAPTURE_C.read_text(encoding="utf-8")
    table = text[text.index("CLIPS[][2] = {") : text.index("};", text.index("CLIPS[][2]"))]
    return dict(re.findall(r'\{"([a-z]+)", "([a-z\' ]+)"\}', table))


def test_the_c_host_port_speaks_the_same_clips() -> None:
    assert c_clips() == CLIP_LIBRARY
