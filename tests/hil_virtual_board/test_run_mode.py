"""Run mode: the board boots the flashed image; console lines both ways; no surprises."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from hil.virtual_board.board import VirtualBoard
from protocol.image import build_app_image
from tests.hil_virtual_board.conftest import esptool

pytestmark = pytest.mark.emu

EVENT = re.compile(r"^@teddy (\d+) ([a-z][a-z0-9_.]*) (\{.*\})$")


class Console:
    """A plain TCP client of the board's port, reading lines."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.lines: list[str] = []

    @classmethod
    async def open(cls, board: VirtualBoard) -> Console:
        reader, writer = await asyncio.open_connection("127.0.0.1", board.port)
        return cls(reader, writer)

    async def event(self, name: str, within: float = 10) -> dict[str, object]:
        async with asyncio.timeout(within):
            while True:
                raw = await self.reader.readline()
                if not raw:
                    raise AssertionError(f"port closed before {name}; got {self.lines}")
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self.lines.append(line)
                match = EVENT.match(line)
                if match and match.group(2) == name:
                    data = json.loads(match.group(3))
                    assert isinstance(data, dict)
                    return data

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def test_flashed_version_boots(tmp_path: Path, board: VirtualBoard) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(build_app_image(version="2.3.4"))
    wrote = await esptool(
        board.url, "--no-stub", "--after", "no-reset", "write-flash", "0x10000", str(app)
    )
    assert wrote.returncode == 0, wrote.output
    console = await Console.open(board)  # a new connection is a reset; silence -> run mode
    try:
        boot = await console.event("boot")
        assert boot["fw_version"] == "2.3.4"
        assert any("App version:      2.3.4" in line for line in console.lines)
        await console.event("ws.open")
        console.writer.write(b"status\n")
        reply = await console.event("cmd.ok")
        assert reply["cmd"] == "status"
    finally:
        await console.close()


async def test_soft_reset_boots_on_same_connection(tmp_path: Path, board: VirtualBoard) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(build_app_image(version="2.5.0"))
    wrote = await esptool(
        board.url, "--no-stub", "--after", "no-reset", "write-flash", "0x10000", str(app)
    )
    assert wrote.returncode == 0, wrote.output
    soft = await esptool(board.url, "--no-stub", "--after", "soft-reset", "chip-id")
    assert soft.returncode == 0, soft.output
    assert "Soft resetting" in soft.output


async def test_blank_flash_halts_with_a_bootloader_error(board: VirtualBoard) -> None:
    console = await Console.open(board)
    try:
        async with asyncio.timeout(5):
            while not any("No bootable app partitions" in line for line in console.lines):
                raw = await console.reader.readline()
                assert raw, f"closed early: {console.lines}"
                console.lines.append(raw.decode().rstrip("\r\n"))
        assert any("invalid header: 0xffffffff" in line for line in console.lines)
        assert board.session is not None and board.session.mode == "halted"
    finally:
        await console.close()


async def test_non_esptool_client_gets_text_only(tmp_path: Path, board: VirtualBoard) -> None:
    flashed = board.flash
    flashed.write(0x10000, build_app_image(version="1.0.9"))
    console = await Console.open(board)
    try:
        console.writer.write(b"hello board\n")  # not a SLIP frame: run mode at once
        await console.event("boot")
        for line in console.lines:
            assert "\xc0" not in line and line.isprintable(), line
    finally:
        await console.close()
    second = await Console.open(board)  # the first client's close freed the port
    try:
        boot = await second.event("boot")
        assert boot["fw_version"] == "1.0.9"
    finally:
        await second.close()
