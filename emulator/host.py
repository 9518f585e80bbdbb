"""The asyncio host of the emulated board: power, flash, drivers around the sans-I/O core.

Owns `DeviceSettings` and `EmulatorHost`, what the harness target and the CLI drive. At
power-on the host plays the ROM and bootloader (factory image on a blank flash, slot
choice and rollback of SPEC §5.5), builds a fresh `emulator.core.Device` (RAM is lost on
every reset), then loops: one input at a time into the core, its effects carried out in
order (flash writes complete before the next effect). A power cut stops that loop at
once: pending effects are lost, sockets drop without close frames, nothing is flushed.

    host = EmulatorHost(settings, on_line=print)
    await host.start()
    await host.write_line('talk "hello teddy"')
    await host.power_cut(); await host.start()
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from emulator.audio import as_pacing
from emulator.core.boot import Behaviour, BootInfo, BuildConfig, select_boot
from emulator.core.device import Device
from emulator.core.effects import Effect
from emulator.core.inputs import ConsoleLine, Input
from emulator.core.timing import DeviceTiming
from emulator.effects_runner import EffectRunner
from emulator.errors import FlashError, HostStateError, SettingsError
from emulator.flash import PARTITIONS, Flash
from protocol import device_model as dm
from protocol.device import reset_reason
from protocol.device_model import DEVICE_DEFAULTS, Quirk, ResetReason
from protocol.eventline import format_event
from protocol.image import build_app_image

__all__ = ["CAPABILITIES", "CoreCrash", "DeviceSettings", "DeviceTiming", "EmulatorHost"]

log = logging.getLogger("teddy.emulator")

CAPABILITIES: Final = frozenset(
    {"audio_in", "audio_out", "ota", "power_cut", "network_faults", "button", "reset"}
)


@dataclass(frozen=True)
class DeviceSettings:
    """How the emulated board is built and wired (compiled-in defaults, SPEC §9.2).

    Besides the harness's paths and `timing`, one field per `settings:` entry of the
    device model, with its default (protocol.device_model.SETTINGS has the help texts,
    limits and choices; tests/emulator check the two agree).
    """

    server_url: str
    flash_dir: Path
    audio_dir: Path
    device_id: str = DEVICE_DEFAULTS.device_id
    child_id: str = DEVICE_DEFAULTS.child_id
    child_name: str | None = DEVICE_DEFAULTS.child_name  # None: the claim's (SPEC §9.2)
    child_age: int | None = DEVICE_DEFAULTS.child_age  # None: the claim's
    volume: int = DEVICE_DEFAULTS.volume
    oob_secret: str | None = DEVICE_DEFAULTS.oob_secret  # None -> seed derivation (SPEC §2.1)
    chip: str = DEVICE_DEFAULTS.chip
    firmware_version: str = DEVICE_DEFAULTS.firmware_version  # the factory image's
    secure_version: int = DEVICE_DEFAULTS.secure_version
    pacing: str = DEVICE_DEFAULTS.pacing  # "fast" (no waiting) or "realtime"
    timing: DeviceTiming = field(default_factory=DeviceTiming)
    seed: int = DEVICE_DEFAULTS.seed  # jitter and ids; nonces use the OS CSPRNG (SPEC §2.3)
    microphone: str = DEVICE_DEFAULTS.microphone  # `button press` source, emulator.media
    speaker: str = DEVICE_DEFAULTS.speaker  # or "sounddevice"
    # SPEC Appendix C: quirks on from every boot, (name, value or ""); `--quirk`.
    quirks: tuple[tuple[Quirk, str], ...] = ()


@dataclass(frozen=True)
class CoreCrash:
    """An exception raised inside the device core: a bug of the emulated firmware.

    The host turns it into what a board does (a panic line, a reset with reason `panic`);
    `on_crash` gets this record first, so a harness can fail the run with the traceback.
    """

    uptime_ms: int
    cause: str  # the input being handled, or the power-on
    error: str  # "ZeroDivisionError: division by zero"
    traceback: str


def _describe_input(event: Input) -> str:
    """The input that crashed the core, short enough for a one-line reason."""
    text = repr(event)
    return text if len(text) <= 200 else text[:200] + "...)"


class EmulatorHost:
    """One emulated board; every coroutine must run on the same event loop."""

    capabilities: frozenset[str] = CAPABILITIES

    def __init__(
        self,
        settings: DeviceSettings,
        *,
        on_line: Callable[[str], None],
        http_transport: httpx.AsyncBaseTransport | None = None,
        on_crash: Callable[[CoreCrash], None] | None = None,
    ) -> None:
        try:
            as_pacing(settings.pacing)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        if settings.speaker not in ("wav", "sounddevice"):
            raise SettingsError(f"speaker must be wav or sounddevice, got {settings.speaker!r}")
        self.settings = settings
        self._on_line = on_line
        self._on_crash = on_crash
        self._http_transport = http_transport
        self._device: Device | None = None
        self._runner: EffectRunner | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[tuple[int, Input, asyncio.Future[None] | None]] | None = None
        self._generation = 0
        self._boot_t = 0.0
        self._reboot_task: asyncio.Task[None] | None = None
        self.boot_count = 0

    # --- public API -------------------------------------------------------------------

    @property
    def powered(self) -> bool:
        return self._device is not None

    @property
    def state(self) -> str:
        """The core's SPEC §8.3 state (`off` while powered down)."""
        return self._device.state if self._device is not None else "off"

    def uptime_ms(self) -> int:
        return int((asyncio.get_running_loop().time() - self._boot_t) * 1000)

    async def start(self) -> None:
        """Power on (reset reason `poweron`) and boot from flash."""
        if self.powered:
            raise HostStateError("the board is already powered; power_cut() or stop() first")
        self._cancel_reboot()
        self._power_on("poweron")

    async def write_line(self, line: str) -> None:
        """Type one console line (SPEC §9); returns once the device handled it."""
        if self._queue is None:
            return  # a board without power ignores its serial input
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((self._generation, ConsoleLine(line), done))
        await asyncio.shield(done)

    async def power_cut(self) -> None:
        """Instant power loss: tasks cancelled, sockets dropped, nothing flushed."""
        self._cancel_reboot()
        self._kill()
        await asyncio.sleep(0)

    async def reset(self, reason: str = "power_on") -> None:
        """Power cut, then boot with `reason` (SPEC §8.2 reset reasons)."""
        self._cancel_reboot()
        self._kill()
        await asyncio.sleep(0)
        self._power_on(reset_reason(reason))

    async def stop(self) -> None:
        """Switch off gracefully (queued frames go out), then close the drivers."""
        self._cancel_reboot()
        runner = self._runner
        if runner is not None:
            runner.ws.close_all(1001, "power_off")
            await runner.ws.flush(0.5)
        self._kill()
        if runner is not None and runner.closing is not None:
            await runner.closing

    # --- power ------------------------------------------------------------------------

    def _cancel_reboot(self) -> None:
        """A pending software reset must not boot the board after the caller's power cut."""
        task, self._reboot_task = self._reboot_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _kill(self) -> None:
        """Everything after this instant is lost (the synchronous part of a power cut)."""
        self._generation += 1
        if self._loop_task is not None:
            self._loop_task.cancel()
            self._loop_task = None
        if self._runner is not None:
            self._runner.abort()
            self._runner = None
        if self._queue is not None:
            while not self._queue.empty():
                _gen, _event, done = self._queue.get_nowait()
                if done is not None and not done.done():
                    done.set_result(None)
        self._queue = None
        self._device = None

    def _power_on(self, reason: ResetReason) -> None:
        loop = asyncio.get_running_loop()
        self._boot_t = loop.time()
        self._generation += 1
        generation = self._generation
        s = self.settings
        flash = Flash(s.flash_dir)
        s.audio_dir.mkdir(parents=True, exist_ok=True)
        boot = self._bootloader(flash, reason)
        nvs = flash.load_nvs()
        self.boot_count = boot.boot_count
        self._queue = asyncio.Queue()
        self._runner = EffectRunner(
            settings=s,
            flash=flash,
            behaviour=boot.behaviour,
            post=lambda event: self._post(generation, event),
            uptime_ms=self.uptime_ms,
            print_line=self._print,
            reboot=self._schedule_reboot,
            http_transport=self._http_transport,
        )
        self._device = Device(
            boot=boot,
            build=BuildConfig(
                server_url=s.server_url,
                device_id=s.device_id,
                chip=s.chip,
                oob_secret=s.oob_secret,
                child_id=s.child_id,
                child_name=s.child_name,
                child_age=s.child_age,
                volume=s.volume,
            ),
            nvs=nvs,
            timing=s.timing,
            rng=random.Random(f"{s.seed}:{s.device_id}:{boot.boot_count}"),
            nonce_source=lambda: os.urandom(16),
            quirks=dict(s.quirks),
        )
        try:
            effects = self._device.start(now_ms=self.uptime_ms())
        except Exception as exc:  # a firmware bug at power-on: the same panic and reset
            self._crashed(exc, cause="power-on (Device.start)")
            return
        self._apply(generation, effects)
        self._loop_task = asyncio.create_task(self._run())

    def _bootloader(self, flash: Flash, reason: ResetReason) -> BootInfo:
        """ROM + second-stage bootloader: factory image, slot choice, rollback (SPEC §5.5)."""
        s = self.settings
        if flash.is_blank():
            factory = build_app_image(
                version=s.firmware_version, chip=s.chip, secure_version=s.secure_version
            )
            flash.write_factory(factory, secure_version=s.secure_version)
        try:
            decision = select_boot(flash.slot_infos(), reset_reason=reason)
        except ValueError as exc:  # the ROM would halt with "no bootable app partitions"
            raise FlashError(f"{flash.root}: {exc}; erase the flash directory") from exc
        rollback = flash.apply_boot(decision)
        infos = flash.slot_infos()
        running = infos[decision.slot]
        image = flash.read_slot(decision.slot)
        nvs = flash.load_nvs()
        boot_key, device_key, oob_key = (
            dm.NVS_SYS_BOOT_COUNT,
            dm.NVS_MFG_DEVICE_ID,
            dm.NVS_MFG_OOB_SECRET,
        )
        count = nvs.get(boot_key.namespace, {}).get(boot_key.key, 0)
        boot_count = (count if isinstance(count, int) else 0) + 1
        flash.nvs_set(boot_key.namespace, boot_key.key, boot_count)
        if device_key.namespace not in nvs:  # first boot: "manufacturing" burns the identity in
            flash.nvs_set(device_key.namespace, device_key.key, s.device_id)
            if s.oob_secret:
                flash.nvs_set(oob_key.namespace, oob_key.key, s.oob_secret.upper())
        assert running.version is not None
        return BootInfo(
            fw_version=running.version,
            slot=decision.slot,
            reset_reason=reason,
            boot_count=boot_count,
            image_secure_version=running.secure_version,
            efuse_secure_version=flash.efuse_secure_version(),
            pending_verify=decision.pending_verify,
            rollback=rollback,
            behaviour=Behaviour.from_image(image),
            slot_size=PARTITIONS[decision.slot][1],
        )

    def _schedule_reboot(self, reason: ResetReason) -> None:
        """A software reset requested by the firmware (`reboot`, OTA, self-test, panic)."""

        async def reboot() -> None:
            runner = self._runner
            if runner is not None and reason != "panic":
                await runner.ws.flush(0.5)  # the 1001 close frame goes out first
            self._kill()
            await asyncio.sleep(0)
            self._reboot_task = None
            try:
                self._power_on(reason)
            except FlashError as exc:  # the board stays dark; say why
                log.error("boot after %s reset failed: %s", reason, exc)
                self._print(f"E (0) boot: flash unreadable: {exc}")

        self._generation += 1  # nothing after the reset request reaches the old core
        self._reboot_task = asyncio.create_task(reboot())

    # --- the main loop ------------------------------------------------------------------

    def _post(self, generation: int, event: Input) -> None:
        if generation == self._generation and self._queue is not None:
            self._queue.put_nowait((generation, event, None))

    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            gen, event, done = await queue.get()
            try:
                device = self._device
                if gen == self._generation and device is not None:
                    self._handle(gen, device, event)
            finally:
                if done is not None and not done.done():
                    done.set_result(None)

    def _handle(self, generation: int, device: Device, event: Input) -> None:
        try:
            effects = device.handle(event, now_ms=self.uptime_ms())
        except Exception as exc:  # a firmware bug: the board panics and resets
            self._crashed(exc, cause=_describe_input(event))
            return
        self._apply(generation, effects)

    def _crashed(self, exc: Exception, *, cause: str) -> None:
        """An exception in the core: report it with its traceback, then panic like a board."""
        log.error("device core failed on %s", cause, exc_info=exc)
        crash = CoreCrash(
            uptime_ms=self.uptime_ms(),
            cause=cause,
            error=f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
        )
        if self._on_crash is not None:  # before the panic line, so the report has it
            self._on_crash(crash)
        self._print(f"Guru Meditation Error: {type(exc).__name__} in the device core")
        self._schedule_reboot("panic")

    def _apply(self, generation: int, effects: list[Effect]) -> None:
        for effect in effects:
            if generation != self._generation or self._runner is None:
                return  # power was cut (or a reset requested) mid-way: the rest is lost
            try:
                self._runner.apply(effect)
            except FlashError as exc:
                self._print(
                    format_event(
                        uptime_ms=self.uptime_ms(),
                        name="error",
                        data={"code": "storage", "message": str(exc)},
                    )
                )

    def _print(self, line: str) -> None:
        try:
            self._on_line(line)
        except Exception:  # a broken listener must not kill the board
            log.exception("on_line callback failed for %r", line)
