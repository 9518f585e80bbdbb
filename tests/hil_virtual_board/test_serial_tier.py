"""CI proof of the serial path (issue 5): real esptool flashes a virtual board, then the
claim, streaming, OTA and age scenarios run on it with `--target serial`.

Each scenario gets a fresh board process (`teddy-hil virtual-board`) on a free loopback
port, flashed with the esptool CLI and checked with verify-flash, exactly as a lab engineer
flashes a DevKit before a run; the scenario then talks to it only through the pyserial URL.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.serial_target import ENV_CAPS, ENV_PORT, SerialTarget
from protocol.image import build_app_image
from tests.hil_virtual_board.conftest import esptool

pytestmark = pytest.mark.emu

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = [
    "claim/happy.yaml",
    "streaming/one_turn.yaml",
    "ota/newer_applied.yaml",
    "ota/sha256_mismatch.yaml",
    "age/age_3.yaml",
    "age/age_14.yaml",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def board_url(tmp_path: Path) -> AsyncIterator[str]:
    url = f"socket://127.0.0.1:{_free_port()}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hil.cli",
        "virtual-board",
        "--listen",
        url,
        "--dir",
        str(tmp_path / "board"),
        "--server",
        "http://127.0.0.1:9",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    first = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert b"listening" in first, first
    try:
        yield url
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_on_a_flashed_virtual_board(
    name: str, board_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "teddy.bin"
    app.write_bytes(build_app_image(version="1.0.0", payload=bytes(50_000)))
    written = await esptool(board_url, "--after", "no-reset", "write-flash", "0x10000", str(app))
    assert written.returncode == 0, written.output
    verified = await esptool(board_url, "--after", "no-reset", "verify-flash", "0x10000", str(app))
    assert verified.returncode == 0 and "digest matched" in verified.output, verified.output
    monkeypatch.setenv(ENV_PORT, board_url)
    # A bare port offers ota/reset/power_cut; the virtual board also plays and records audio.
    monkeypatch.setenv(ENV_CAPS, "audio_in,audio_out")
    result = await run_scenario(
        load_scenario(REPO / "scenarios" / name),
        target_cls=SerialTarget,
        artifact_dir=tmp_path / "artifacts",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail
