"""What fails a scenario whatever its steps expect: a lost device, a crash, a panic.

Owns `DeviceWatch`. The runner races every step against `DeviceWatch.wait()`, so such a
failure ends the step in progress at once instead of at its timeout, and checks
`DeviceWatch.seen()` once more after the last step:
- the target lost its device for good (`Target.wait_lost`: a serial port closed);
- the target reported a crash only it can see (`Target.crashes`: a Python exception in
  the emulated device core, with its traceback);
- a run-wide rule is broken (`hil.rules`: a `forbid:` entry or a built-in protocol
  invariant on the wire), with the record that broke it as evidence;
- the console shows a firmware panic (the first line ESP-IDF's panic handler, abort,
  assert or heap checker prints), unless the scenario provokes one on purpose and says
  so with `panic: expected`. The report holds the panic line and what the device printed
  after it until it booted again (the backtrace), up to `PANIC_TAIL_LINES` lines.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from hil.errors import display_path
from hil.rules.watch import RuleWatch
from hil.streams import DeviceConsole, Record
from hil.targets.base import Target
from hil.targets.crash import Crash

PANIC_MARKERS: Final = (
    "Guru Meditation Error",
    "abort() was called at PC",
    "***ERROR*** A stack overflow in task",
    "CORRUPT HEAP:",
    "assert failed:",
)
PANIC_TAIL_LINES: Final = 40
PANIC_TAIL_S: Final = 2.0  # a panicking board prints its backtrace, then reboots


def is_panic(record: Record) -> bool:
    return record.name is None and any(marker in record.text for marker in PANIC_MARKERS)


class DeviceWatch:
    """Watches one target and its console for failures no step asked for."""

    def __init__(
        self,
        target: Target,
        console: DeviceConsole,
        *,
        panic_expected: bool,
        rules: RuleWatch | None = None,
    ) -> None:
        self._target = target
        self._console = console
        self._panic_expected = panic_expected
        self._rules = rules

    async def wait(self) -> Crash:
        """The first such failure, once there is one (cancelled by the runner otherwise)."""
        waiters = [self._lost(), self._target.crashes.wait()]
        if not self._panic_expected:
            waiters.append(self._panic())
        if self._rules is not None:
            waiters.append(self._rules.wait())
        tasks = [asyncio.ensure_future(w) for w in waiters]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            return self._target.crashes.first or done.pop().result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def seen(self) -> Crash | None:
        """A crash or an unexpected panic already recorded (checked after the last step)."""
        crash = self._target.crashes.first
        if crash is None and self._rules is not None:
            crash = self._rules.seen()
        if crash is not None or self._panic_expected:
            return crash
        for record in self._console.records:
            if is_panic(record):
                return self._panic_report(record, self._tail(record.index))
        return None

    async def _lost(self) -> Crash:
        why = await self._target.wait_lost()
        return Crash(reason=why, detail=why)

    async def _panic(self) -> Crash:
        record = await self._console.wait_for(is_panic, start=0, within=float("inf"))
        assert record is not None  # an infinite wait only ends with a match
        with contextlib.suppress(TimeoutError):  # the reboot ends the backtrace
            await self._console.wait_for(
                lambda r: r.name == "boot", start=record.index + 1, within=PANIC_TAIL_S
            )
        return self._panic_report(record, self._tail(record.index))

    def _tail(self, index: int) -> list[Record]:
        tail: list[Record] = []
        for record in self._console.records[index : index + PANIC_TAIL_LINES]:
            tail.append(record)
            if record.name == "boot":
                break
        return tail

    def _panic_report(self, record: Record, tail: list[Record]) -> Crash:
        lines = [
            f"the device panicked (console.log line {record.index + 1}); a scenario that"
            " provokes a panic on purpose says `panic: expected`:",
            *(f"    {r.describe()}" for r in tail),
            f"  full log: {display_path(self._console.log_path)}",
        ]
        return Crash(reason=f"device panic: {record.text.strip()[:160]}", detail="\n".join(lines))
