"""`teddy-emulator` as a process: the console over TCP, a pty and stdio."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.cli import main
from protocol.eventline import Event, parse_event_line
from tests.emulator.helpers import Rig

pytestmark = pytest.mark.emu

ROOT = Path(__file__).resolve().parents[2]


async def spawn(rig: Rig, console: str, **kwargs: object) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator.cli",
        "--server",
        rig.server.base_url,
        "--flash",
        str(rig.root / "flash"),
        "--console",
        console,
        "--pacing",
        "fast",
        "--timing",
        "fast",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        **kwargs,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def running(rig: Rig, console: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    proc = await spawn(rig, console)
    assert proc.stdout is not None
    try:
        banner = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        yield proc, banner
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0


async def read_until(reader: asyncio.StreamReader, name: str, seen: list[Event]) -> Event:
    while True:
        raw = await asyncio.wait_for(reader.readline(), 15)
        assert raw, f"console closed before {name}"
        event = parse_event_line(raw.decode())
        if event is not None:
            seen.append(event)
            if event.name == name:
                return event


async def test_tcp_console_drives_the_board_like_a_serial_port(rig: Rig) -> None:
    async with running(rig, "tcp:0") as (_proc, banner):
        assert banner.startswith("console: tcp 127.0.0.1:")
        port = int(banner.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        seen: list[Event] = []
        boot = await read_until(reader, "boot", seen)
        assert boot.data["reset_reason"] == "poweron"  # powered on by the first client
        await read_until(reader, "ws.open", seen)
        other_reader, other_writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await other_reader.readline()).startswith(b"busy")
        other_writer.close()
        writer.write(b"status\r\nfrobnicate\n")
        await writer.drain()
        status = await read_until(reader, "cmd.ok", seen)
        assert status.data["cmd"] == "status" and status.data["ws"] is True
        error = await read_until(reader, "cmd.error", seen)
        assert (error.data["cmd"], error.data["reason"]) == ("frobnicate", "unknown_command")
        writer.close()


async def test_pty_console_prints_its_path(rig: Rig) -> None:
    async with running(rig, "pty") as (_proc, banner):
        path = banner.removeprefix("console: pty ")
        assert path.startswith("/dev/")
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader()
            transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
            )
            seen: list[Event] = []
            await read_until(reader, "ws.open", seen)
            out = os.open(path, os.O_WRONLY | os.O_NOCTTY)
            os.write(out, b"get child_age\n")
            os.close(out)
            got = await read_until(reader, "cmd.ok", seen)
            assert got.data == {"cmd": "get", "key": "child_age", "value": 7}
            transport.close()
            await asyncio.sleep(0.01)  # let the pipe transport release its fd
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)


async def test_stdio_console_stops_at_end_of_input(rig: Rig) -> None:
    proc = await spawn(rig, "stdio", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    seen: list[Event] = []
    assert (await proc.stdout.readline()).decode().strip() == "console: stdio"
    await read_until(proc.stdout, "ws.open", seen)
    proc.stdin.write(b"help\n")
    await proc.stdin.drain()
    helped = await read_until(proc.stdout, "cmd.ok", seen)
    assert "talk" in list(helped.data["commands"])  # type: ignore[call-overload]
    proc.stdin.close()
    assert await asyncio.wait_for(proc.wait(), 10) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--flash", "x"],
        ["--server", "http://h", "--flash", "x", "--console", "serial"],
        ["--server", "http://h", "--flash", "x", "--pacing", "slow"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    assert main(argv) == 2
