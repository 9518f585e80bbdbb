"""A sanitizer report on teddy-fw-host's stderr fails the scenario, at once when it kills it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import HilError
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget
from hil.targets.firmware_host import FirmwareHostOptions, FirmwareHostTarget


def _target_with_stderr(path: Path) -> FirmwareHostTarget:
    target = object.__new__(FirmwareHostTarget)  # only the stderr check is exercised
    target._stderr_path = path
    return target


@pytest.mark.unit
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


@pytest.mark.unit
def test_clean_or_missing_stderr_passes(tmp_path: Path) -> None:
    log = tmp_path / "teddy-fw-host.stderr.log"
    _target_with_stderr(log)._check_sanitizers()
    log.write_text("I (12) teddy: websocket upgraded\n")
    _target_with_stderr(log)._check_sanitizers()


FAKE_BOARD = r'''#!/usr/bin/env python3
"""A stand-in teddy-fw-host: boots, then dies of a heap overflow on `status`."""
import json, sys
def event(name, **data):
    print(f"@teddy 1 {name} {json.dumps(data, separators=(',', ':'))}", flush=True)
event("boot", fw_version="1.0.0", slot="ota_0", reset_reason="poweron",
      device_id="Teddy-ESP32-0001")
for line in sys.stdin:
    if line.strip() == "status":
        sys.stderr.write("==42==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020\n")
        sys.stderr.write("    #0 0x55 in dev_chat_on_message device_chat.c:120\n")
        sys.stderr.flush()
        sys.exit(1)
    word = line.split()[0] if line.split() else ""
    event("cmd.ok", cmd=word)
'''


@pytest.mark.emu
async def test_a_board_that_dies_mid_run_fails_the_step_at_once(tmp_path: Path) -> None:
    binary = tmp_path / "teddy-fw-host"
    binary.write_text(FAKE_BOARD)
    binary.chmod(0o755)
    scenario_file = tmp_path / "scenarios" / "dies.yaml"
    scenario_file.parent.mkdir()
    scenario_file.write_text(
        "version: 1\nname: dies\ndescription: d\nsteps:\n  - expect: boot\n"
        "  - console: status\n  - expect: {event: ws.open, timeout: 30s}\n"
    )
    target = ChosenTarget(FirmwareHostTarget, FirmwareHostOptions(binary=binary))
    result = await run_scenario(
        load_scenario(scenario_file),
        target=target,
        artifact_dir=tmp_path / "artifacts",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.FAILED
    assert [s.status for s in result.steps] == ["passed", "failed", "not_run"], result.detail
    assert "sanitizer report: ==42==ERROR: AddressSanitizer: heap-buffer-overflow" in result.reason
    assert "device_chat.c:120" in result.detail  # the report itself, not only its first line
    assert result.duration_s < 20  # at once, not at the next step's 30 s timeout
