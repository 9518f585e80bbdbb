"""The `emulator` target: the Python device (`emulator.host.EmulatorHost`) in-process.

The emulator runs on the runner's own event loop and hands every console line to
`on_line`, so there is no serial port to flake. The scenario's `device:` mapping
becomes `emulator.host.DeviceSettings` (its `timing:` sub-mapping a `DeviceTiming`, its
`quirks:` list the (quirk, value) pairs of SPEC Appendix C, on from every boot);
paths (`flash_dir`, `audio_dir`) and `server_url` are always the harness's, so a
scenario cannot write outside its artifact folder. The target has no options of its own
(`NoOptions`): everything it is told comes from the scenario.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from hil.errors import HilError, TargetUnavailableError
from hil.targets.audio_path import AudioPath, SpeakerFiles
from hil.targets.base import (
    AUDIO_CAPTURE,
    DEVICE_FILES,
    IDENTITY,
    MULTI_DEVICE,
    QUIRKS,
    TARGET_CAPABILITIES,
    Target,
    TargetSetup,
)
from hil.targets.crash import Crash
from hil.targets.options import TargetOptions
from hil.targets.registry import register
from protocol.device import quirks_from, setting_problem, setting_spec
from protocol.device_model import SETTINGS

if TYPE_CHECKING:  # imported lazily at run time: hil must load even when emulator/ cannot
    from emulator.host import CoreCrash, DeviceSettings, EmulatorHost

HOST_MODULE = "emulator.host"
_HARNESS_OWNED = ("server_url", "flash_dir", "audio_dir")


def _host_module() -> ModuleType:
    try:
        return importlib.import_module(HOST_MODULE)
    except ImportError as exc:
        raise TargetUnavailableError(
            f"the emulator target needs {HOST_MODULE} ({exc}); is emulator/ built?"
        ) from exc


def _build_dataclass(cls: Any, values: Mapping[str, object], *, where: str) -> Any:
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        valid = ", ".join(n for n in names if n not in _HARNESS_OWNED)
        raise HilError(f"{where}: unknown setting(s) {', '.join(unknown)}; valid: {valid}")
    return cls(**values)


def _check_values(values: Mapping[str, object]) -> None:
    """Each value against the device model's `settings:` (type, range, choices, pattern)."""
    names = {spec.name for spec in SETTINGS}
    for name, value in values.items():
        if name in names:
            problem = setting_problem(setting_spec(name), value)
            if problem is not None:
                raise HilError(f"device.{problem}")


def device_settings(setup: TargetSetup) -> DeviceSettings:
    """`emulator.host.DeviceSettings` for `setup`; HilError names unknown or bad settings."""
    host = _host_module()
    settings_cls = host.DeviceSettings
    values = {k: v for k, v in setup.device.items() if k not in _HARNESS_OWNED}
    _check_values(values)
    timing = values.get("timing")
    if isinstance(timing, Mapping):
        timing_cls = type(settings_cls.__dataclass_fields__["timing"].default_factory())
        values["timing"] = _build_dataclass(timing_cls, timing, where="device.timing")
    if "quirks" in values:
        try:
            values["quirks"] = quirks_from(values["quirks"])
        except ValueError as exc:
            raise HilError(str(exc)) from None
    values.update(
        server_url=setup.server_url,
        flash_dir=setup.work_dir / "flash",
        audio_dir=setup.audio_dir,
    )
    settings: DeviceSettings = _build_dataclass(settings_cls, values, where="device")
    return settings


@register("emulator")
class EmulatorTarget(Target):
    description = "the Python device (emulator.host.EmulatorHost) inside the runner's process"
    declared_capabilities = frozenset(TARGET_CAPABILITIES)  # a simulated board has them all

    def __init__(self, setup: TargetSetup) -> None:
        super().__init__(setup)
        self._settings = device_settings(setup)
        Path(self._settings.flash_dir).mkdir(parents=True, exist_ok=True)
        Path(self._settings.audio_dir).mkdir(parents=True, exist_ok=True)
        self._host: EmulatorHost = _host_module().EmulatorHost(
            self._settings, on_line=self.lines.emit, on_crash=self._on_crash
        )
        self._stopped = False

    def _on_crash(self, crash: CoreCrash) -> None:
        """A Python exception in the device core: always a failure, with its traceback."""
        self.crashes.report(
            Crash(
                reason=f"the emulated device core raised {crash.error} on {crash.cause}",
                detail=(
                    f"the emulated device core raised an exception at uptime"
                    f" {crash.uptime_ms} ms while handling {crash.cause}; the board panicked"
                    f" and reset (a bug of the device model, not an expected panic):\n"
                    f"{crash.traceback.rstrip()}"
                ),
            )
        )

    @classmethod
    def unavailable_reason(cls, options: TargetOptions) -> str | None:
        try:
            _host_module()
        except TargetUnavailableError as exc:
            return str(exc)
        return None

    @property
    def capabilities(self) -> frozenset[str]:
        # The host knows its hardware; identity comes from `device:` (DeviceSettings) and
        # its flash is a folder of the scenario's (DeviceSettings.flash_dir); each device of
        # a `devices:` scenario is one more host on the same loop; its quirks are
        # DeviceSettings.quirks, on from every boot.
        # Its speaker writes out-<id>.wav as the DAC plays (emulator.media.Speaker).
        extra = {IDENTITY, DEVICE_FILES, MULTI_DEVICE, QUIRKS, AUDIO_CAPTURE}
        return frozenset(self._host.capabilities) | extra

    @property
    def audio_path(self) -> AudioPath:
        return SpeakerFiles(Path(self._settings.audio_dir))

    @property
    def flash_root(self) -> Path:
        return Path(self._settings.flash_dir)

    def device_vars(self) -> dict[str, object]:
        values = dataclasses.asdict(self._settings)
        return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}

    async def start(self) -> None:
        await self._host.start()

    async def write_line(self, line: str) -> None:
        await self._host.write_line(line)

    async def power_cut(self) -> None:
        await self._host.power_cut()

    async def reset(self, reason: str = "power_on") -> None:
        await self._host.reset(reason)

    async def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            await self._host.stop()
