"""The `emulator` target: the example scenarios on the real Python device and server."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import HilError
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget, TargetSetup
from hil.targets.emulator import EmulatorTarget
from tests.hil.conftest import WriteFile

EMULATOR = ChosenTarget.of(EmulatorTarget)  # no options of its own
pytestmark = [
    pytest.mark.emu,
    pytest.mark.skipif(
        EMULATOR.unavailable_reason() is not None,
        reason=f"emulator target unavailable: {EMULATOR.unavailable_reason()}",
    ),
]

REPO = Path(__file__).resolve().parents[2]
# The whole suite runs as pytest items of its own (hil.pytest_plugin); here three examples
# check what the runner leaves behind.
EXAMPLES = [
    REPO / "scenarios" / name
    for name in ("claim/happy.yaml", "streaming/one_turn.yaml", "ota/newer_applied.yaml")
]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_example_scenarios_pass_on_the_emulator(path: Path, tmp_path: Path) -> None:
    result = await run_scenario(
        load_scenario(path),
        target=EMULATOR,
        artifact_dir=tmp_path,
        pipeline=shared_pipeline(),  # real speech-to-text: one_turn checks the transcript
    )
    assert result.status is Status.PASSED, result.detail
    assert (tmp_path / "device" / "flash").is_dir()
    if "streaming" in path.parts:
        names = sorted(p.name for p in (tmp_path / "audio").iterdir())
        # what the server sent, what was said, and the speaker output with its sidecar
        assert [n[:3] for n in names] == ["out", "out", "rx-", "tx-"], names
        assert names[0].endswith(".json") and names[1].endswith(".wav"), names


async def test_power_cut_and_reset_reach_the_device(write: WriteFile, tmp_path: Path) -> None:
    path = write(
        "x.yaml",
        """
        version: 1
        name: power
        description: a power cut loses the connection; a reset boots again (SPEC §8.2)
        device: {device_id: Teddy-ESP32-0077, child_age: 9}
        steps:
          - expect: {event: boot, match: {reset_reason: poweron, device_id: "${device.device_id}"}}
          - expect: ws.open
          - expect_server: {event: ws.open, match: {device_id: teddy-esp32-0077}}
          - power_cut: {}
          - expect_absent: {event: boot, within: 300ms}
          - reboot: {reason: ext}
          - expect: {event: boot, match: {reset_reason: ext}}
          - expect: ws.open
          - console: status
          - expect: {event: cmd.ok, match: {cmd: status, child_age: "${device.child_age}"}}
        """,
    )
    result = await run_scenario(
        load_scenario(path),
        target=EMULATOR,
        artifact_dir=tmp_path / "run",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail


def test_device_settings_are_checked(tmp_path: Path) -> None:
    def setup(device: dict[str, object]) -> TargetSetup:
        return TargetSetup("http://127.0.0.1:1", tmp_path / "d", tmp_path / "a", device)

    target = EmulatorTarget(setup({"child_age": 5, "timing": {"self_test_limit_ms": 100}}))
    assert target.device_vars()["child_age"] == 5
    with pytest.raises(HilError, match=r"device: unknown setting\(s\) colour; valid: device_id"):
        EmulatorTarget(setup({"colour": "brown"}))
    with pytest.raises(HilError, match=r"device\.timing: unknown setting\(s\) nope"):
        EmulatorTarget(setup({"timing": {"nope": 1}}))
