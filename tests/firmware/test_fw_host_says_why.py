"""teddy-fw-host against a server in the original's style: its events say why (SPEC §8.4).

The C twin of tests/emulator/test_emulator_says_why.py: the same small server (not the
reference server) answers the claim with the original's two different 404s, both
`HTTP_404`; the firmware, run as its own process on a stdio console, must print the two
reasons. Skipped with the build command as the reason without the binary (`host_fw`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hil.pytest_plugin import OptionsFor
from hil.targets.firmware_host import FirmwareHostOptions
from protocol.constants import CLAIM_PATH
from protocol.eventline import Event, parse_event_line, validate_event
from tests.emulator.original_server import CHILD_NOT_FOUND, DEVICE_NOT_FOUND, OriginalServer

pytestmark = pytest.mark.host_fw  # skipped with the reason when the binary is missing

WAIT_S = 15.0


class Console:
    """The board's stdout, read line by line; every event line is checked against SPEC §8."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.events: list[Event] = []

    async def wait(
        self, name: str, *, since: int = 0, match: Callable[[Event], bool] | None = None
    ) -> Event:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + WAIT_S
        while True:
            for event in self.events[since:]:
                if event.name == name and (match is None or match(event)):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = "\n".join(self.lines[-20:])
                raise AssertionError(f"no {name} within {WAIT_S} s; last lines:\n{tail}")
            raw = await asyncio.wait_for(self.proc.stdout.readline(), remaining)
            if not raw:
                raise AssertionError("teddy-fw-host exited:\n" + "\n".join(self.lines[-20:]))
            line = raw.decode("utf-8").rstrip("\r\n")  # SPEC §8.1: valid UTF-8, or this fails
            self.lines.append(line)
            parsed = parse_event_line(line)
            if parsed is not None:
                validate_event(parsed)
                self.events.append(parsed)

    async def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{line}\n".encode())
        await self.proc.stdin.drain()


@pytest.fixture
def binary_path(target_options: OptionsFor) -> Path:
    """The teddy-fw-host this pytest run was given (--fw-host / $TEDDY_FW_HOST)."""
    return target_options(FirmwareHostOptions).binary


async def test_two_original_404s_give_two_reasons(tmp_path: Path, binary_path: Path) -> None:
    answers = {CLAIM_PATH: [DEVICE_NOT_FOUND, CHILD_NOT_FOUND]}
    async with OriginalServer(answers) as server:
        proc = await asyncio.create_subprocess_exec(
            str(binary_path),
            *("--server", server.base_url, "--flash", str(tmp_path / "flash")),
            *("--timing", "fast", "--console", "stdio"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        console = Console(proc)
        try:
            config = await console.wait("config.fail")
            first = await console.wait("claim.fail")
            mark = len(console.events)
            await console.send("claim")  # SPEC §2.6: a 404 needs a human; they try again
            second = await console.wait("claim.fail", since=mark)
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    assert (config.data["status"], config.data["error"]) == (404, "http_404")
    assert config.data["message"] == "Not Found"
    assert (first.data["status"], first.data["code"], first.data["retry_in_ms"]) == (
        404,
        "HTTP_404",
        0,
    )
    assert first.data["message"] == "Device not registered or not found"
    assert second.data["code"] == "HTTP_404"
    assert second.data["message"] == "Child profile not found or inactive"
    assert len(server.requests_to(CLAIM_PATH)) == 2
