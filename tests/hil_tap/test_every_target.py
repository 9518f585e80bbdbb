"""Every target's traffic goes through the runner's tap: wire.jsonl has it all.

The emulator and the C firmware (firmware-host) run one scenario per area here; the
serial target's proof is the virtual-board tier (tests/hil_virtual_board), which checks
the wire log of every scenario of the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.pytest_plugin import OptionsFor
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget
from hil.targets.firmware_host import FirmwareHostOptions, FirmwareHostTarget
from hil.targets.registry import choose
from tests.hil_tap.helpers import wire_problems

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("claim/happy.yaml", "streaming/one_turn.yaml", "faults/download_cut_resumed.yaml")


async def _run_and_check(name: str, target: ChosenTarget, artifacts: Path) -> None:
    result = await run_scenario(
        load_scenario(REPO / "scenarios" / name),
        target=target,
        artifact_dir=artifacts,
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail
    assert wire_problems(artifacts) == []


@pytest.mark.emu
@pytest.mark.parametrize("name", EXAMPLES)
async def test_the_emulators_traffic_is_on_the_wire_log(name: str, tmp_path: Path) -> None:
    await _run_and_check(name, choose("emulator"), tmp_path)


@pytest.mark.host_fw
@pytest.mark.parametrize("name", EXAMPLES)
async def test_the_firmwares_traffic_is_on_the_wire_log(
    name: str, tmp_path: Path, target_options: OptionsFor
) -> None:
    fw_host = ChosenTarget(FirmwareHostTarget, target_options(FirmwareHostOptions))
    await _run_and_check(name, fw_host, tmp_path)
