"""A bare port offers only what the board says is wired (its `board: wiring:` boot line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.result import Status
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


async def test_a_board_that_states_no_wiring_skips_audio_scenarios_after_boot(
    tmp_path: Path,
) -> None:
    config = BoardConfig(directory=tmp_path / "board", server_url="http://127.0.0.1:9", wiring=())
    board = VirtualBoard(config)
    board.flash.write(0x10000, build_app_image(version="1.0.0", payload=bytes(2000)))
    await board.start()
    options = SerialOptions(port=board.url)  # no declared wiring: the board's line decides
    try:
        result = await run_scenario(
            load_scenario(REPO / "scenarios/streaming/one_turn.yaml"),
            target=ChosenTarget(SerialTarget, options),
            artifact_dir=tmp_path / "artifacts",
            pipeline=shared_pipeline(),
        )
    finally:
        await board.stop()
    assert result.status is Status.SKIPPED, result.detail
    # The first missing need is its expect_audio's ear; the note says how to declare one.
    assert "needs capability 'audio_capture'" in result.reason
    assert "--serial-audio" in result.reason
