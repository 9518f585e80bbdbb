"""Two serial targets in one process, each on its own virtual board (issue 10).

Target options belong to the target, not to the process: two `SerialOptions` with two
loopback ports run `claim/happy` on two virtual boards at the same time, in one event
loop, and each scenario sees the board on its own port (its device id, its port in
board.json, its console lines), which a port read from one environment variable could
not do.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.serial.options import SerialOptions
from hil.targets.base import ChosenTarget
from hil.targets.serial_target import SerialTarget
from hil.virtual_board.board import BoardConfig, VirtualBoard
from protocol.image import build_app_image

pytestmark = pytest.mark.emu

REPO = Path(__file__).resolve().parents[2]
MACS = {"left": "240ac4000a01", "right": "240ac4000b02"}


@pytest.fixture
async def two_boards(tmp_path: Path) -> AsyncIterator[dict[str, VirtualBoard]]:
    boards: dict[str, VirtualBoard] = {}
    for name, mac in MACS.items():
        config = BoardConfig(
            directory=tmp_path / name, server_url="http://127.0.0.1:9", mac=bytes.fromhex(mac)
        )
        board = VirtualBoard(config)
        board.flash.write(0x10000, build_app_image(version="1.0.0", payload=bytes(2000)))
        await board.start()
        boards[name] = board
    try:
        yield boards
    finally:
        for board in boards.values():
            await board.stop()


def _boot_device_ids(result: ScenarioResult) -> set[str]:
    assert result.artifact_dir is not None
    events = [json.loads(line) for line in (result.artifact_dir / "events.jsonl").open()]
    return {str(e["data"]["device_id"]) for e in events if e["event"] == "boot"}


async def test_two_serial_targets_in_one_process_talk_to_their_own_boards(
    two_boards: dict[str, VirtualBoard], tmp_path: Path
) -> None:
    scenario = load_scenario(REPO / "scenarios/claim/happy.yaml")
    targets = {
        name: ChosenTarget(SerialTarget, SerialOptions(port=board.url, lock_dir=tmp_path / "locks"))
        for name, board in two_boards.items()
    }
    assert len({board.url for board in two_boards.values()}) == 2
    runs = [
        run_scenario(
            scenario,
            target=target,
            artifact_dir=tmp_path / "artifacts" / name,
            pipeline=shared_pipeline(),
        )
        for name, target in targets.items()
    ]
    results = dict(zip(targets, await asyncio.gather(*runs), strict=True))
    for name, board in two_boards.items():
        result = results[name]
        assert result.status is Status.PASSED, f"{name}: {result.detail}"
        assert _boot_device_ids(result) == {board.config.resolved_device_id}
        assert result.artifact_dir is not None
        info = json.loads((result.artifact_dir / "device" / "board.json").read_text())
        assert info["port"] == board.url
        assert board.sessions >= 1  # it was connected to (the restore, then the scenario)
    ids = {board.config.resolved_device_id for board in two_boards.values()}
    assert len(ids) == 2  # two different boards, so the check above tells them apart
