"""The serial target against a fake board on socket:// (a tiny line server written here)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hil.serial.errors import PortError
from hil.serial.options import SerialOptions
from hil.targets.base import TargetSetup
from hil.targets.serial_target import SerialTarget
from hil.virtual_board.board import DEFAULT_WINDOW_S

pytestmark = pytest.mark.unit


class FakeBoard:
    """Each connection is a power-on (like hil.virtual_board): boot, then answer commands.

    Like the virtual board it boots into the app only after the strap window passed in
    silence: a board that printed at once would lose its boot to pyserial, whose
    socket:// open discards what arrived before the open finished (reset_input_buffer).
    """

    def __init__(self) -> None:
        self.received: list[str] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.boots = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        await asyncio.sleep(DEFAULT_WINDOW_S)  # the strap window (hil.virtual_board.board)
        self._boot(writer)
        while line := await reader.readline():
            text = line.decode().strip()
            self.received.append(text)
            cmd = text.split()[0]
            writer.write(f'@teddy 5 cmd.ok {{"cmd":"{cmd}"}}\r\n'.encode())
            if cmd in ("factory-reset", "reboot"):
                self._boot(writer)
            await writer.drain()

    def _boot(self, writer: asyncio.StreamWriter) -> None:
        self.boots += 1
        data = {"fw_version": "1.0.0", "slot": "ota_0", "reset_reason": "poweron", "device_id": "x"}
        writer.write(b"ets Jun  8 2016 \xff\xfe garbage\r\n")
        writer.write(f"@teddy 0 boot {json.dumps(data, separators=(',', ':'))}\r\n".encode())


async def _until(condition: Callable[[], bool], what: str, *, within: float = 15.0) -> None:
    """Poll `condition` (set by the link's reader thread) until it holds or `within` ends."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_provision_then_boot_then_port_closed_mid_run(tmp_path: Path) -> None:
    board = FakeBoard()
    server = await asyncio.start_server(board.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    options = SerialOptions(
        port=f"socket://127.0.0.1:{port}",
        capabilities=frozenset({"audio_in", "audio_out"}),
        restore="none",  # the fake has no ROM loader
        lock_dir=tmp_path / "locks",
    )
    setup = TargetSetup(
        server_url="http://127.0.0.1:8123",
        work_dir=tmp_path / "device",
        audio_dir=tmp_path / "audio",
        device={"child_age": 14, "child_name": "Sam Lee"},
        options=options,
    )
    target = SerialTarget(setup)
    assert target.capabilities == {"ota", "reset", "power_cut", "audio_in", "audio_out"}
    lines: list[str] = []
    target.lines.subscribe(lines.append)
    await target.start()
    await target.write_line("status")
    await _until(lambda: any("cmd.ok" in s for s in lines), "the status reply")
    assert board.received[:4] == [
        "factory-reset",
        "wifi down",  # no claim against the harness's server before the scenario starts
        "set server http://127.0.0.1:8123",
        'set child_name "Sam Lee"',
    ]
    assert "set child_age 14" in board.received
    assert lines[1].startswith("@teddy 0 boot")  # the scenario starts at the reconnect boot
    assert "\ufffd" in lines[0]
    for writer in board.writers:  # the cable is pulled
        writer.close()
    await _until(lambda: target.failure() is not None, "the target to notice the closed port")
    with pytest.raises(PortError) as info:
        await target.write_line("status")
    message = str(info.value)
    assert "board socket_127.0.0.1_" in message and "serial.log" in message
    assert any(s.startswith("[teddy-hil] board ") for s in lines)
    assert "serial port" in await asyncio.wait_for(target.wait_lost(), 5)
    await target.stop()  # the loss was reported through wait_lost; stop only cleans up
    server.close()
    log = (tmp_path / "device" / "serial.log").read_text()
    assert "> factory-reset" in log and "port lost" in log
