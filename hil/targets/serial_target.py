"""The `serial` target: a board (or a virtual board) on any pyserial URL.

Its options are `SerialOptions` (hil.serial.options): the board is the scenario's
`device.port`, else `port` (`teddy-hil run --port`, pytest `--port`), or a bench file
(`bench`, board by `device.board` / `board`, else the first free board). Each instance
has its own options, so one process can drive boards on two ports. Console lines are
framed and timestamped by `hil.serial.link`, so `@teddy` events (SPEC §8) reach the
harness through the same `LineBuffer` as on every other target; commands (SPEC §9) are
written with "\\n".

Each scenario gets a fresh device state: before the scenario sees any line, the target
restores the factory firmware (`hil.serial.restore`: erase otadata), sends
`factory-reset`, `wifi down` and `set server|child_id|child_name|child_age` (SPEC §9.2)
and only then resets the board through DTR/RTS, so the scenario's console starts at its
`boot` event. What the board printed meanwhile is in `device/serial.log`.

Capabilities are declared from the bench entry (`BoardEntry.capabilities`): `ota`,
`reset` unless `reset: none`, `power_cut` only with a power switch, audio/button only
when wired. Without a bench, the `capabilities` option (`--serial-capabilities`) adds the
wired ones, else the board's own `board: wiring:` boot line does (a virtual board running
the emulator has the audio path).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import ClassVar, Final

from hil.errors import HilError, MissingCapabilityError
from hil.serial import reset as rs
from hil.serial.bench import WIRED_CAPABILITIES, BoardEntry
from hil.serial.boards import resolve_port
from hil.serial.errors import NotAnEspError, PortError
from hil.serial.link import SerialLink, open_port
from hil.serial.lock import BoardLock
from hil.serial.options import SerialOptions
from hil.serial.restore import Restored, restore_board
from hil.serial.selection import candidates, lock_dir_for, server_url_for
from hil.serial.wiring import reported_wiring
from hil.targets.audio_path import AudioPath
from hil.targets.base import (
    AUDIO_CAPTURE,
    AUDIO_IN,
    AUDIO_OUT,
    BUTTON,
    MULTI_DEVICE,
    NETWORK_FAULTS,
    OTA,
    POWER_CUT,
    QUIRKS,
    RESET,
    Target,
    TargetSetup,
    image_mismatch,
)
from hil.targets.console_provision import QUIRKS_NOTE, ConsoleProvisioner, SilentDeviceError
from hil.targets.options import TargetOptions
from hil.targets.registry import register
from protocol.eventline import Event

HARNESS_KEYS: Final = ("port", "board")
COMMAND_TIMEOUT_S: Final = 5.0


@register("serial")
class SerialTarget(Target):
    description = "a board (or virtual board) on a pyserial URL; capabilities from the bench entry"
    # The most any bench entry can offer; the instance narrows it to the board's wiring.
    declared_capabilities = frozenset(
        {AUDIO_IN, AUDIO_OUT, AUDIO_CAPTURE, OTA, POWER_CUT, NETWORK_FAULTS, BUTTON, RESET}
    )
    capability_notes: ClassVar[Mapping[str, str]] = {
        cap: "a board's wiring counts only when declared: bench `capabilities:`,"
        " --serial-capabilities, or the board's own `board: wiring:` boot line"
        for cap in WIRED_CAPABILITIES
    } | {
        AUDIO_CAPTURE: "the harness hears a board's speaker only through a declared audio path:"
        " bench `audio: {output: ...}` or --serial-audio",
        MULTI_DEVICE: "a serial run drives one board (the bench or --port picks one);"
        " several boards in one scenario (`devices:`) are not supported yet",
        QUIRKS: QUIRKS_NOTE,
    }
    options_type = SerialOptions

    def __init__(self, setup: TargetSetup) -> None:
        super().__init__(setup)
        self.options = SerialOptions.of(setup.options)
        self._entries, self._bench = candidates(setup.device, self.options)
        self.entry: BoardEntry = self._entries[0]
        self._log_path = setup.work_dir / "serial.log"
        self._lock: BoardLock | None = None
        self._link: SerialLink | None = None
        self._port_name = ""
        self._live = False
        self._prov: ConsoleProvisioner | None = None  # lines before the scenario's start
        self._wiring: frozenset[str] | None = None  # from the board's `wiring:` line
        self._started = False
        self._powered = True
        self._stopped = False
        self._lost = asyncio.Event()  # set from the link's reader thread
        self._lost_reason: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._restored: Restored | None = None
        self._audio: AudioPath | None = None  # the bench's `audio:` (hil.serial.audio_wiring)

    @classmethod
    def unavailable_reason(cls, options: TargetOptions) -> str | None:
        given = SerialOptions.of(options)
        if given.port or given.bench:
            return None
        return (
            "needs a board: pass --port URL ($TEDDY_SERIAL_PORT)"
            " or a bench file --bench FILE ($TEDDY_BENCH)"
        )

    @classmethod
    def offered_capabilities(cls, options: TargetOptions) -> frozenset[str]:
        given = SerialOptions.of(options)
        if given.bench is None and given.capabilities is not None:
            # Any board given by a port is wired as the options declare (`adhoc_entry`).
            unwired = set(WIRED_CAPABILITIES) - given.capabilities
            if given.audio is None or not given.audio.hears_speaker:
                unwired.add(AUDIO_CAPTURE)
            return cls.declared_capabilities - unwired
        return cls.declared_capabilities  # the bench (read at start) or the board narrows it

    @property
    def capabilities(self) -> frozenset[str]:
        # A board picked at start from several: only what every candidate has.
        caps = self._entries[0].capabilities
        for entry in self._entries[1:]:
            caps &= entry.capabilities
        if self.entry.wiring_from_board:
            # Before start nothing is known yet (the runner checks again after it);
            # afterwards only what the board's `wiring:` line stated (hil.serial.wiring).
            reported = self._wiring if self._started else frozenset(WIRED_CAPABILITIES)
            caps |= reported or frozenset()
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
        wiring = reported_wiring((text,))
        if wiring is not None:
            self._wiring = wiring
        if self._live:
            self.lines.emit(text)
        elif self._prov is not None:
            self._prov.feed(text)  # provisioning: not part of the scenario's console

    def _on_lost(self, why: str) -> None:
        """Reader thread: the port died. Mark it for `wait_lost` and the console."""
        reason = (
            f"board {self.entry.name}: serial port {self._port_name} closed ({why});"
            f" check the cable and power; log: {self._log_path}"
        )
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(self._mark_lost, reason)

    def _mark_lost(self, reason: str) -> None:
        if self._lost_reason is None:
            self._lost_reason = reason
            self.lines.emit(f"[teddy-hil] {reason}")  # shown in console.log next to the cause
            self._lost.set()

    async def wait_lost(self) -> str:
        await self._lost.wait()
        assert self._lost_reason is not None
        return self._lost_reason

    def _check_link(self) -> None:
        if self._lost_reason is not None:
            raise PortError(self._lost_reason)

    # --- set-up ---------------------------------------------------------------------

    async def _acquire(self) -> None:
        lock_dir = lock_dir_for(self.options, self._bench)
        wait = self.options.lock_wait_s
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

    async def _restore(self) -> None:
        """Undo an earlier run's OTA (hil.serial.restore) before the console is attached."""
        if self.entry.restore == "none":
            return
        self._port_name = await asyncio.to_thread(resolve_port, self.entry)
        log_path = self.setup.work_dir / "flash.log"
        try:
            self._restored = await asyncio.to_thread(
                restore_board, self.entry, self._port_name, log_path=log_path
            )
        except NotAnEspError as exc:
            raise NotAnEspError(
                f"factory restore before the scenario: {exc}; to skip it set `restore: none`"
                f" in the bench (or --serial-restore none); log: {log_path}"
            ) from None

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
            "restore": self._restored.action.line() if self._restored else self.entry.restore,
        }
        self.setup.work_dir.mkdir(parents=True, exist_ok=True)
        (self.setup.work_dir / "board.json").write_text(json.dumps(info, indent=2) + "\n")

    def _provisioner(self) -> ConsoleProvisioner:
        hint = (
            f"check that the teddy firmware is flashed (`teddy-hil flash`), the baud rate"
            f" ({self.entry.baud}) and the reset method ({self.entry.reset}); log: {self._log_path}"
        )
        return ConsoleProvisioner(
            self._write_async,
            who=f"board {self.entry.name} on {self._port_name}",
            hint=hint,
            command_timeout_s=COMMAND_TIMEOUT_S,
            boot_timeout_s=self.entry.boot_timeout_s,
        )

    async def _write_async(self, line: str) -> None:
        assert self._link is not None
        await asyncio.to_thread(self._link.write_line, line)

    async def _provision(self) -> None:
        """Fresh device state for this scenario (SPEC §9.2), before the scenario sees lines."""
        assert self._link is not None
        self._link.note("provisioning: factory-reset and settings")
        prov = self._prov
        assert prov is not None
        try:
            boot = await prov.factory_reset()
        except SilentDeviceError as exc:
            if self.entry.reset not in rs.DTR_RTS_METHODS:
                raise NotAnEspError(str(exc)) from None
            self._link.note("no answer; resetting into the app (maybe in download mode)")
            await self._hard_reset()
            try:
                boot = await prov.factory_reset()
            except SilentDeviceError as again:
                raise NotAnEspError(str(again)) from None
        self._check_firmware(boot)
        await prov.configure(server_url_for(self.entry, self.setup.server_url), self.setup.device)

    async def _provision_unless_lost(self) -> None:
        """`_provision`, failing at once (not at a command timeout) when the port dies."""
        work = asyncio.ensure_future(self._provision())
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({work, lost}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                self._check_link()
            work.result()
        finally:
            for task in (work, lost):
                task.cancel()
            await asyncio.gather(work, lost, return_exceptions=True)

    def _check_firmware(self, boot: Event) -> None:
        """Skip (not fail) a scenario written for another image than the board holds."""
        app = self._restored.app if self._restored else None
        version = boot.data.get("fw_version")
        why = image_mismatch(
            self.setup.device,
            holder=f"board {self.entry.name}",
            version=str(version) if version is not None else (app.version if app else None),
            secure_version=app.secure_version if app else None,
            remedy="flash",
        )
        if why:
            raise MissingCapabilityError(why)

    async def _hard_reset(self) -> None:
        assert self._link is not None
        steps = rs.sequence(self.entry.reset, "run")
        self._link.note(f"reset into the app: {rs.describe(steps)}")
        await asyncio.to_thread(rs.run_sequence, self._link.port, steps)
        self._link.cut_partial_line("reset")  # EN went low mid-line: not the board's defect

    # --- Target ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._link is not None:
            raise HilError("the serial target is already started")
        self._loop = asyncio.get_running_loop()
        await self._acquire()
        await self._restore()
        self._prov = self._provisioner()  # before the port opens: the boot banner counts
        await self._open()
        self._prov.who = f"board {self.entry.name} on {self._port_name}"
        if self._restored is not None:
            assert self._link is not None
            self._link.note(f"factory restore: {self._restored.action.line()}")
        if self.entry.power_switch is not None:
            await self._switch(self.entry.power_switch.on)
        if self.entry.provision:
            await self._provision_unless_lost()
        self._live = True
        await self.reset("power_on")
        self._started = True  # from now on `capabilities` reflects the board's wiring line
        self._audio = await self.entry.audio.open_path()
        self._write_board_json()

    @property
    def audio_path(self) -> AudioPath | None:
        return self._audio

    async def write_line(self, line: str) -> None:
        if self._link is None:
            raise HilError("the serial target is not started")
        await asyncio.to_thread(self._link.write_line, line)

    async def power_cut(self) -> None:
        if self.entry.reset == "reconnect" and self.entry.power_switch is None:
            await self._close_link("power-off")  # hil.virtual_board: closing = power off
            self._powered = False
            return
        if self.entry.power_switch is None:
            raise HilError(f"board {self.entry.name} has no power_switch in the bench file")
        await self._switch(self.entry.power_switch.off)
        if self._link is not None:
            self._link.cut_partial_line("power-off")
        self._powered = False

    async def reset(self, reason: str = "power_on") -> None:
        """DTR/RTS into the app (reset_reason is the board's own: EN gives `poweron`)."""
        if self.entry.reset == "reconnect":  # each connection is a power-on (virtual board)
            await self._close_link("reset")
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

    async def _close_link(self, why: str) -> None:
        link, self._link = self._link, None
        if link is not None:
            await asyncio.to_thread(link.close, why)

    async def _switch(self, command: str) -> None:
        proc = await asyncio.create_subprocess_shell(command)
        if await proc.wait() != 0:
            raise HilError(f"board {self.entry.name}: power switch command failed: {command}")

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        link, self._link = self._link, None
        audio, self._audio = self._audio, None
        try:
            if audio is not None:
                await audio.close()
            if link is not None:
                await asyncio.to_thread(link.close)
        finally:
            if self._lock is not None:
                await asyncio.to_thread(self._lock.release)
        # A lost port is not raised here: `wait_lost` already failed the step it cut.
