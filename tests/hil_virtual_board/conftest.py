"""Fixtures: a virtual board on a loopback port and real esptool driven against it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hil.virtual_board.board import BoardConfig, VirtualBoard
from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.state import build_state
from tests.server.helpers import scripted_pipeline


@dataclass(frozen=True)
class EsptoolRun:
    returncode: int
    output: str


async def esptool(url: str, *args: str) -> EsptoolRun:
    """Run the real esptool CLI (`python -m esptool`) against the board."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "esptool",
        "--port",
        url,
        "--before",
        "no-reset",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return EsptoolRun(proc.returncode, out.decode("utf-8", errors="replace"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "server")
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


@pytest.fixture
async def board(tmp_path: Path, server: EmbeddedServer) -> AsyncIterator[VirtualBoard]:
    config = BoardConfig(
        directory=tmp_path / "board", server_url=server.base_url, download_window=0.3
    )
    vb = VirtualBoard(config)
    await vb.start()
    yield vb
    await vb.stop()
