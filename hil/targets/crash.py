"""Crashes a target reports on its own: what fails a scenario whatever its steps expect.

Owns `Crash` and `CrashLog`. A console shows a firmware panic (the runner watches for it,
`hil.runner.watch`), but some crashes only the target can see: a Python exception inside
the emulated device core (a bug of the device model, which the emulator turns into a
simulated panic and reset like a board would), a sanitizer report of the host build.
The target reports them here with the full detail (the traceback); the runner fails the
step in progress at once and puts the detail in the report.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class Crash:
    """The device under test crashed: `reason` is one line, `detail` the whole report."""

    reason: str
    detail: str


class CrashLog:
    """The crashes one target saw, in order; used from the event loop's thread only."""

    def __init__(self) -> None:
        self.crashes: list[Crash] = []
        self._reported: asyncio.Event | None = None

    @property
    def first(self) -> Crash | None:
        return self.crashes[0] if self.crashes else None

    def report(self, crash: Crash) -> None:
        self.crashes.append(crash)
        if self._reported is not None:
            self._reported.set()

    async def wait(self) -> Crash:
        """The first crash, once there is one (never returns for a device that works)."""
        if self._reported is None:
            self._reported = asyncio.Event()
        while not self.crashes:
            self._reported.clear()
            await self._reported.wait()
        return self.crashes[0]
