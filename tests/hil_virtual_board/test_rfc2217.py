"""The virtual board on rfc2217://: real DTR/RTS resets from esptool and the serial target."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.serial.options import SerialOptions
from hil.targets.base import ChosenTarget
from hil.targets.serial_target import SerialTarget
from hil.virtual_board.board import BoardConfig
from hil.virtual_board.rfc2217 import ResettingPortManager, Rfc2217Board, VirtualUart
from protocol.image import build_app_image

pytestmark = pytest.mark.emu

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def rfc_board(tmp_path: Path) -> AsyncIterator[Rfc2217Board]:
    config = BoardConfig(directory=tmp_path / "board", server_url="http://127.0.0.1:9")
    board = Rfc2217Board(config)
    board.flash.write(0x10000, build_app_image(version="1.0.0", payload=bytes(2000)))
    await board.start()
    yield board
    await board.stop()


class _Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


def test_reset_rules_follow_esp_rfc2217_server() -> None:
    """esptool's ClassicReset over RFC 2217: D0 R1 (wait) D1 R0 (wait) D0 -> one download
    reset; HardReset: R1 (wait) R0 -> one run reset; port open with both released -> run."""
    resets: list[bool] = []
    manager = ResettingPortManager(VirtualUart(), _Sink(), resets.append)

    def control(code: int) -> None:
        # IAC SB COM-PORT-OPTION SET-CONTROL <code> IAC SE
        list(manager.filter(bytes([255, 250, 44, 5, code, 255, 240])))

    dtr_on, dtr_off, rts_on, rts_off = 8, 9, 11, 12
    for code in (dtr_off, rts_on, dtr_on, rts_off, dtr_off):  # bootloader sequence
        control(code)
    assert resets == [True]
    for code in (rts_on, dtr_off, rts_off):  # hard reset (DTR re-written after RTS)
        control(code)
    assert resets == [True, False]


async def test_esptool_resets_into_the_loader_and_back_by_dtr_rts(
    rfc_board: Rfc2217Board,
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "esptool", "--port", rfc_board.url, "read-mac",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode("utf-8", errors="replace")
    assert proc.returncode == 0, text
    assert "24:0a:c4:a7:95:ba" in text and "Hard resetting via RTS pin" in text
    # --before default-reset put it in the ROM loader; --after hard-reset booted the app.
    assert "download" in rfc_board.boots and rfc_board.boots[-1] == "run"


async def test_serial_target_with_classic_reset_runs_a_scenario(
    rfc_board: Rfc2217Board, tmp_path: Path
) -> None:
    # Not socket:// -> reset method `classic`.
    options = SerialOptions(port=rfc_board.url, capabilities=frozenset({"audio_in", "audio_out"}))
    result = await run_scenario(
        load_scenario(REPO / "scenarios/claim/happy.yaml"),
        target=ChosenTarget(SerialTarget, options),
        artifact_dir=tmp_path / "artifacts",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail
    assert result.artifact_dir is not None
    log = (result.artifact_dir / "device" / "serial.log").read_text()
    assert "reset (power_on) by classic" in log
    assert rfc_board.boots.count("download") >= 1  # the factory restore's ROM session
