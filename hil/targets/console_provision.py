"""Fresh device state over the console (SPEC §9.2), shared by console-provisioned targets.

A real board (serial) or a simulated one (wokwi) keeps its settings and tokens in NVS
between scenarios. Before the scenario sees any line, the target sends `factory-reset`
(waits for its `cmd.ok` and the `boot` it causes), then `wifi down`, `set server <url>`
and the scenario's `set child_id|child_name|child_age`, each checked against its SPEC
§9.3 reply, and finally resets or reboots the device itself. The lines printed meanwhile
go to `ConsoleProvisioner.feed`, not to the scenario; they stay in `seen` for error
messages.

`feed` may be called from another thread (a serial reader): waiters are woken through
the event loop `provision` runs on.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from hil.errors import HilError
from protocol.console import command_word
from protocol.errors import ProtocolError
from protocol.eventline import Event, parse_event_line

SETTABLE: Final = ("child_id", "child_name", "child_age")  # SPEC §9.2 `set` keys
# Why a console-provisioned board lacks the capability `quirks`.
QUIRKS_NOTE: Final = (
    "device quirks live in RAM (SPEC Appendix C) and console provisioning ends with a reset,"
    " so `device: quirks:` cannot be on from the first boot; use `console: quirk on NAME` steps"
)
COMMAND_TIMEOUT_S: Final = 5.0
BOOT_TIMEOUT_S: Final = 20.0


class SilentDeviceError(HilError):
    """The device did not answer a provisioning command (or did not boot after it)."""


class ConsoleProvisioner:
    """Runs the provisioning commands through `write` and reads replies fed to `feed`."""

    def __init__(
        self,
        write: Callable[[str], Awaitable[None]],
        *,
        who: str,
        hint: str,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
        boot_timeout_s: float = BOOT_TIMEOUT_S,
    ) -> None:
        self._write = write
        self.who = who  # "board lab-1 on /dev/ttyUSB0", "Wokwi simulation"
        self.hint = hint  # what to check when the device stays silent
        self.command_timeout_s = command_timeout_s
        self.boot_timeout_s = boot_timeout_s
        self.seen: list[str] = []
        self.found_at = -1  # where in `seen` the last event `wait_event` found is
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._changed = asyncio.Event()

    def feed(self, line: str) -> None:
        """One console line printed while provisioning (any thread)."""
        self.seen.append(line)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self._changed.set()
        else:
            loop.call_soon_threadsafe(self._changed.set)

    async def wait_event(
        self, names: tuple[str, ...], *, since: int, within: float, cmd: str | None = None
    ) -> Event | None:
        """The first event named in `names` (with `cmd` if given) printed from `since` on.

        `found_at` is then the index of its line in `seen`.
        """
        self._bind()
        deadline = time.monotonic() + within
        pos = since
        while True:
            while pos < len(self.seen):
                line = self.seen[pos]
                pos += 1
                try:
                    event = parse_event_line(line)
                except ProtocolError:
                    continue
                if event is None or event.name not in names:
                    continue
                if cmd is None or event.data.get("cmd") == cmd:
                    self.found_at = pos - 1
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._changed.clear()
            if pos < len(self.seen):
                continue
            try:
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                return None

    def _bind(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()

    async def command(self, line: str, *, boots: bool = False) -> int:
        """Send a command and wait for its reply (and the boot it causes).

        Returns the index in `seen` of the reply (of the boot, with `boots`).
        """
        self._bind()
        since = len(self.seen)
        await self._write(line)
        within = max(self.command_timeout_s, self.boot_timeout_s if boots else 0.0)
        reply = await self.wait_event(
            ("cmd.ok", "cmd.error"), since=since, within=within, cmd=command_word(line)
        )
        if reply is None:
            raise SilentDeviceError(self.silent(line))
        if reply.name == "cmd.error":
            raise HilError(f"{self.who} refused `{line}`: {reply.data.get('reason')}")
        if not boots:
            return self.found_at
        # The boot it causes comes after the reply (SPEC §9.2: cmd.ok before the reset); an
        # earlier boot (a power-on racing the command) must not be taken for it.
        after = self.found_at + 1
        if await self.wait_event(("boot",), since=after, within=self.boot_timeout_s) is None:
            raise SilentDeviceError(self.silent(line, what="no boot event after"))
        return self.found_at

    def silent(self, line: str, *, what: str = "no reply to") -> str:
        last = next((s for s in reversed(self.seen) if s.strip()), None)
        seen = f"last line: {last[:80]!r}" if last else "it printed nothing"
        return f"{self.who}: {what} `{line}` ({seen}); {self.hint}"

    async def factory_reset(self) -> Event:
        """`factory-reset`; the `boot` event it caused (its `fw_version` is the running image)."""
        index = await self.command("factory-reset", boots=True)
        boot = parse_event_line(self.seen[index])
        assert boot is not None  # wait_event found it as an event
        return boot

    async def configure(self, server_url: str, device: Mapping[str, object]) -> None:
        """`wifi down`, `set server` and the scenario's child settings.

        Offline first: with the harness's server set, a claim retry would otherwise succeed
        before the target's final reboot, and the scenario would start with tokens already
        stored (`set server` takes effect at the next claim, SPEC §9.2). The reboot that
        follows provisioning brings Wi-Fi back (it is not a persisted setting).
        """
        if device.get("quirks"):
            raise HilError(f"{self.who}: device.quirks: {QUIRKS_NOTE}")
        await self.command("wifi down")
        await self.command(f"set server {server_url}")
        for key in SETTABLE:
            value = device.get(key)
            if value is not None:
                text = json.dumps(value) if key == "child_name" else str(value)
                await self.command(f"set {key} {text}")

    async def provision(self, server_url: str, device: Mapping[str, object]) -> Event:
        """factory-reset, then `configure`; returns the factory-reset's `boot` event."""
        boot = await self.factory_reset()
        await self.configure(server_url, device)
        return boot
