"""A sanitizer report on teddy-fw-host's stderr fails the scenario (issue 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import HilError
from hil.targets.firmware_host import FirmwareHostTarget

pytestmark = pytest.mark.unit


def _target_with_stderr(path: Path) -> FirmwareHostTarget:
    target = object.__new__(FirmwareHostTarget)  # only the stderr check is exercised
    target._stderr_path = path
    return target


@pytest.mark.parametrize(
    "report",
    [
        "==123==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020",
        "device_ota.c:88:5: runtime error: signed integer overflow",
        "==9==ERROR: LeakSanitizer: detected memory leaks",
    ],
)
def test_report_fails_with_the_line_and_the_log_path(tmp_path: Path, report: str) -> None:
    log = tmp_path / "teddy-fw-host.stderr.log"
    log.write_text(f"free text\n{report}\nmore\n")
    with pytest.raises(HilError, match="sanitizer report") as info:
        _target_with_stderr(log)._check_sanitizers()
    assert str(log) in str(info.value)


def test_clean_or_missing_stderr_passes(tmp_path: Path) -> None:
    log = tmp_path / "teddy-fw-host.stderr.log"
    _target_with_stderr(log)._check_sanitizers()
    log.write_text("I (12) teddy: websocket upgraded\n")
    _target_with_stderr(log)._check_sanitizers()
