"""The `serial` target: a board (or a virtual board) on any pyserial URL.

The port comes from the scenario's `device.port`, `$TEDDY_SERIAL_PORT` (what `teddy-hil
run --port` / pytest `--port` set), or a bench file (`$TEDDY_BENCH`, board by
`device.board` / `$TEDDY_BOARD`, else the first free board). Console lines are framed
and timestamped by `hil.serial.link`, so `@teddy` events (SPEC §8) reach the harness
through the same `LineBuffer` as on every other target; commands (SPEC §9) are written
with "\\n".

Each scenario gets a fresh device state: before the scenario sees any line, the target
sends `factory-reset` and `set server|child_id|child_name|child_age` (SPEC §9.2) and
only then resets the board through DTR/RTS, so the scenario's console starts at its
`boot` event. What the board printed meanwhile is in `device/serial.log`.

Capabilities are declared from the bench entry (`BoardEntry.capabilities`): `ota`,
`reset` unless `reset: none`, `power_cut` only with a power switch, audio/button only
when wired. Without a bench, `$TEDDY_SERIAL_CAPABILITIES` (comma list) adds the wired
ones (a virtual board running the emulator has the audio path).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from hil.errors import HilError
from hil.serial import reset as rs
from hil.serial.bench import (
    DEFAULT_LOCK_DIR,
    RESET_METHODS,
    WIRED_CAPABILITIES,
    Bench,
    BoardEntry,
    load_bench,
)
from hil.serial.boards import resolve_port
from hil.serial.errors import NotAnEspError, PortError
from hil.serial.link import SerialLink, open_port
from hil.serial.lock import BoardLock
from hil.targets.base import (
    AUDIO_IN,
    AUDIO_OUT,
    BUTTON,
    NETWORK_FAULTS,
    OTA,
    POWER_CUT,
    RESET,
    Target,
    TargetSetup,
)
from hil.targets.registry import register
from protocol.errors import ProtocolError
from protocol.eventline import Event, parse_event_line

ENV_PORT: Final = "TEDDY_SERIAL_PORT"
ENV_BENCH: Final = "TEDDY_BENCH"
ENV_BOARD: Final = "TEDDY_BOARD"
ENV_CAPS: Final = "TEDDY_SERIAL_CAPABILITIES"
ENV_RESET: Final = "TEDDY_SERIAL_RESET"
ENV_LOCK_WAIT: Final = "TEDDY_LOCK_WAIT"
SETTABLE: Final = ("child_id", "child_name", "child_age")  # SPEC §9.2 `set` keys
HARNESS_KEYS: Final = ("port", "board")
COMMAND_TIMEOUT_S: Final = 5.0
POLL_S: Final = 0.02


def _adhoc_entry(port: str) -> BoardEntry:
    """A board given only by its port: capabilities from the environment, never guessed."""
    caps = {c.strip() for c in os.environ.get(ENV_CAPS, "").split(",") if c.strip()}
    unknown = caps - set(WIRED_CAPABILITIES)
    if unknown:
        raise HilError(
            f"{ENV_CAPS}: unknown {', '.join(sorted(unknown))};"
            f" valid: {', '.join(WIRED_CAPABILITIES)}"
        )
    method = os.environ.get(ENV_RESET) or (
        "reconnect" if port.startswith("socket://") else "classic"
    )
    if method not in RESET_METHODS:
        raise HilError(f"{ENV_RESET}={method!r}; valid: {', '.join(RESET_METHODS)}")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", port).strip("_")[:64] or "board"
    return BoardEntry(name=name, port=port, reset=method, wired=frozenset(caps))


def _candidates(device: Mapping[str, object]) -> tuple[list[BoardEntry], Bench | None]:
    port = str(device.get("port") or os.environ.get(ENV_PORT) or "") or None
    board = str(device.get("board") or os.environ.get(ENV_BOARD) or "") or None
    bench_path = os.environ.get(ENV_BENCH)
    bench = load_bench(Path(bench_path)) if bench_path else None
    if bench is None:
        if port is None:
            raise HilError(f"the serial target needs a port: --port URL or ${ENV_PORT}")
        return [_adhoc_entry(port)], None
    if board is not None:
        return [bench.board(board)], bench
    if port is not None:
        same = [e for e in bench.boards if e.port == port]
        return (same or [_adhoc_entry(port)]), bench
    return list(bench.boards), bench


def server_url_for(entry: BoardEntry, url: str) -> str:
    """The harness's server as the board reaches it (a real board cannot use 127.0.0.1)."""
    if not entry.server_host:
        return url
    parts = urlsplit(url)
    netloc = f"{entry.server_host}:{parts.port}" if parts.port else entry.server_host
    return urlunsplit(parts._replace(netloc=netloc))


@register("serial")
class SerialTarget(Target):
    description = "a board (or virtual board) on a pyserial URL; capabilities from the bench entry"
    # The most any bench entry can offer; the instance narrows it to the board's wiring.
    declared_capabilities = frozenset(
        {AUDIO_IN, AUDIO_OUT, OTA, POWER_CUT, NETWORK_FAULTS, BUTTON, RESET}
    )

    def __init__(self, setup: TargetSetup) -> None:
        super().__init__(setup)
        self._entries, self._bench = _candidates(setup.device)
        self.entry: BoardEntry = self._entries[0]
        self._log_path = setup.work_dir / "serial.log"
        self._lock: BoardLock | None = None
        self._link: SerialLink | None = None
        self._port_name = ""
        self._live = False
        self._seen: list[str] = []  # lines before the scenario sees any (provisioning)
        self._powered = True
        self._stopped = False

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if os.environ.get(ENV_PORT) or os.environ.get(ENV_BENCH):
            return None
        return f"needs a board: --port URL (${ENV_PORT}) or a bench file (${ENV_BENCH})"

    @property
    def capabilities(self) -> frozenset[str]:
        # A board picked at start from several: only what every candidate has.
        caps = self._entries[0].capabilities
        for entry in self._entries[1:]:
            caps &= entry.capabilities
        return caps

    def device_vars(self) -> dict[str, object]:
        values = {k: v for k, v in self.setup.device.items() if k not in HARNESS_KEYS}
        values.update(board=self.entry.name, port=self._port_name or self.entry.port or "")
        values.setdefault("chip", self.entry.chip)
        return values

    def failure(self) -> str | None:
        """Why the board is gone (port closed mid-scenario), or None; the runner may poll it."""
        if self._link is not None and self._link.lost is not None:
            return (
                f"board {self.entry.name}: serial port {self._port_name} closed"
                f" ({self._link.lost}); log: {self._log_path}"
            )
        return None

    # --- lines ----------------------------------------------------------------------

    def _on_line(self, _stamp: float, text: str) -> None:
        if self._live:
            self.lines.emit(text)
        else:
            self._seen.append(text)

    def _on_lost(self, why: str) -> None:
        # A harness remark in the console, so an expect that times out shows the cause.
        self.lines.emit(
            f"[teddy-hil] board {self.entry.name}: serial port {self._port_name} closed ({why});"
            f" log: {self._log_path}"
        )

    async def _wait_event(
        self, names: tuple[str, ...], *, since: int, within: float, cmd: str | None = None
    ) -> Event | None:
        """The first event named in `names` (with `cmd` if given) printed from `since` on."""
        deadline = time.monotonic() + within
        pos = since
        while True:
            while pos < len(self._seen):
                line = self._seen[pos]
                pos += 1
                try:
                    event = parse_event_line(line)
                except ProtocolError:
                    continue
                if event is None or event.name not in names:
                    continue
                if cmd is None or event.data.get("cmd") == cmd:
                    return event
            self._check_link()
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(POLL_S)

    def _check_link(self) -> None:
        failure = self.failure()
        if failure:
            raise PortError(failure + "; check the cable and power")

    # --- set-up ---------------------------------------------------------------------

    async def _acquire(self) -> None:
        lock_dir = self._bench.lock_dir if self._bench else DEFAULT_LOCK_DIR
        wait = float(os.environ.get(ENV_LOCK_WAIT, "60"))
        if len(self._entries) > 1:  # any free board: try each once, then queue on all
            for entry in self._entries:
                lock = BoardLock(entry.name, lock_dir=lock_dir, purpose="teddy-hil serial target")
                if await asyncio.to_thread(lock.try_acquire) is None:
                    lock.acquire(wait_s=0)  # ours already; starts the lease renewer
                    self._lock, self.entry = lock, entry
                    return
        lock = BoardLock(self.entry.name, lock_dir=lock_dir, purpose="teddy-hil serial target")
        await asyncio.to_thread(lock.acquire, wait_s=wait)
        self._lock = lock

    async def _open(self) -> None:
        self._port_name = await asyncio.to_thread(resolve_port, self.entry)
        port = await asyncio.to_thread(
            open_port, self._port_name, baud=self.entry.baud, board=self.entry.name
        )
        self._link = SerialLink(
            port,
            board=self.entry.name,
            log_path=self._log_path,
            on_line=self._on_line,
            on_lost=self._on_lost,
        )
        self._link.start()
        self._write_board_json()

    def _write_board_json(self) -> None:
        lease = self._lock.lease if self._lock else None
        info = {
            "board": self.entry.name,
            "port": self._port_name,
            "chip": self.entry.chip,
            "reset": self.entry.reset,
            "capabilities": sorted(self.capabilities),
            "bench": str(self._bench.path) if self._bench else None,
            "lock": str(self._lock.path) if self._lock else None,
            "lease_expires": lease.expires if lease else None,
        }
        self.setup.work_dir.mkdir(parents=True, exist_ok=True)
        (self.setup.work_dir / "board.json").write_text(json.dumps(info, indent=2) + "\n")

    async def _command(self, line: str, *, boots: bool = False) -> None:
        """Send a provisioning command and wait for its reply (and the boot it causes)."""
        assert self._link is not None
        since = len(self._seen)
        await asyncio.to_thread(self._link.write_line, line)
        reply = await self._wait_reply(line.split()[0], since=since)
        if reply is None:
            raise NotAnEspError(self._silent(line))
        if reply.name == "cmd.error":
            raise HilError(f"board {self.entry.name} refused `{line}`: {reply.data.get('reason')}")
        if (
            boots
            and await self._wait_event(("boot",), since=since, within=self.entry.boot_timeout_s)
            is None
        ):
            raise NotAnEspError(self._silent(line, what="no boot event after"))

    async def _wait_reply(self, cmd: str, *, since: int) -> Event | None:
        within = max(COMMAND_TIMEOUT_S, self.entry.boot_timeout_s)
        return await self._wait_event(("cmd.ok", "cmd.error"), since=since, within=within, cmd=cmd)

    def _silent(self, line: str, *, what: str = "no reply to") -> str:
        last = next((s for s in reversed(self._seen) if s.strip()), None)
        seen = f"last line: {last[:80]!r}" if last else "it printed nothing"
        return (
            f"board {self.entry.name} on {self._port_name}: {what} `{line}` ({seen}); check that"
            f" the teddy firmware is flashed (`teddy-hil flash`), the baud rate ({self.entry.baud})"
            f" and the reset method ({self.entry.reset}); log: {self._log_path}"
        )

    async def _provision(self) -> None:
        """Fresh device state for this scenario (SPEC §9.2), before the scenario sees lines."""
        assert self._link is not None
        self._link.note("provisioning: factory-reset and settings")
        try:
            await self._command("factory-reset", boots=True)
        except NotAnEspError:
            if self.entry.reset not in rs.DTR_RTS_METHODS:
                raise
            self._link.note("no answer; resetting into the app (maybe in download mode)")
            await self._hard_reset()
            await self._command("factory-reset", boots=True)
        await self._command(f"set server {server_url_for(self.entry, self.setup.server_url)}")
        for key in SETTABLE:
            value = self.setup.device.get(key)
            if value is not None:
                await self._command(
                    f"set {key} {json.dumps(value) if key == 'child_name' else value}"
                )

    async def _hard_reset(self) -> None:
        assert self._link is not None
        steps = rs.sequence(self.entry.reset, "run")
        self._link.note(f"reset into the app: {rs.describe(steps)}")
        await asyncio.to_thread(rs.run_sequence, self._link.port, steps)

    # --- Target ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._link is not None:
            raise HilError("the serial target is already started")
        await self._acquire()
        await self._open()
        if self.entry.power_switch is not None:
            await self._switch(self.entry.power_switch.on)
        if self.entry.provision:
            await self._provision()
        self._live = True
        await self.reset("power_on")

    async def write_line(self, line: str) -> None:
        if self._link is None:
            raise HilError("the serial target is not started")
        await asyncio.to_thread(self._link.write_line, line)

    async def power_cut(self) -> None:
        if self.entry.reset == "reconnect" and self.entry.power_switch is None:
            await self._close_link()  # hil.virtual_board: closing the link = power off
            self._powered = False
            return
        if self.entry.power_switch is None:
            raise HilError(f"board {self.entry.name} has no power_switch in the bench file")
        await self._switch(self.entry.power_switch.off)
        self._powered = False

    async def reset(self, reason: str = "power_on") -> None:
        """DTR/RTS into the app (reset_reason is the board's own: EN gives `poweron`)."""
        if self.entry.reset == "reconnect":  # each connection is a power-on (virtual board)
            await self._close_link()
            await self._open()
            self._powered = True
            return
        if self._link is None:
            raise HilError("the serial target is not started")
        self._check_link()
        if not self._powered and self.entry.power_switch is not None:
            await self._switch(self.entry.power_switch.on)
            self._powered = True
        self._link.note(f"reset ({reason}) by {self.entry.reset}")
        if self.entry.reset == "console":
            await asyncio.to_thread(self._link.write_line, "reboot")
        elif self.entry.reset == "none":
            raise HilError(f"board {self.entry.name} cannot be reset from outside (reset: none)")
        else:
            await self._hard_reset()

    async def _close_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await asyncio.to_thread(link.close)

    async def _switch(self, command: str) -> None:
        proc = await asyncio.create_subprocess_shell(command)
        if await proc.wait() != 0:
            raise HilError(f"board {self.entry.name}: power switch command failed: {command}")

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        failure = self.failure()
        link, self._link = self._link, None
        try:
            if link is not None:
                await asyncio.to_thread(link.close)
        finally:
            if self._lock is not None:
                await asyncio.to_thread(self._lock.release)
        if failure:
            raise PortError(failure)
