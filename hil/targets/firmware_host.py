"""The `firmware-host` target: the C firmware (teddy_core + port_linux) as a subprocess.

`teddy-fw-host` is the same device core that runs on the ESP32, built for Linux by
`cmake -S firmware/host -B build/host && cmake --build build/host -j2`. It prints SPEC §8
event lines on stdout and reads SPEC §9 commands on stdin, so this target is a pipe: a
power cut is SIGKILL (nothing more is written, sockets drop without close frames), a
reset is SIGKILL then a new process on the same flash directory with `--reset-reason`.
The binary is the `binary` option (`FirmwareHostOptions`: `--fw-host`, default
`$TEDDY_FW_HOST` at the CLI / pytest edge, else `build/host/app/teddy-fw-host`).

Capabilities are those the host port really has: audio in and out as WAV files and
espeak-ng, OTA into file-backed slots with rollback, power cut, reset, network faults
(the server drops or corrupts the link; the port copes like the board), and the
push-to-talk button through the console's `button press|release` with the
`microphone` source, as on the emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Final

from hil.errors import HilError
from hil.targets.audio_path import AudioPath, SpeakerFiles
from hil.targets.base import (
    TARGET_CAPABILITIES,
    LineSplitter,
    Target,
    TargetSetup,
)
from hil.targets.crash import Crash
from hil.targets.options import TargetOptions, option, path
from hil.targets.registry import register
from protocol.device import quirk_flag, quirks_from, setting_problem, setting_spec
from protocol.device import reset_reason as reset_reason  # the one rule, re-exported
from protocol.device_model import SETTINGS, TIMING

ENV_BINARY: Final = "TEDDY_FW_HOST"
REPO_ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_BINARY: Final = REPO_ROOT / "build" / "host" / "app" / "teddy-fw-host"
BUILD_HINT: Final = (
    "cmake -S firmware/host -B build/host && cmake --build build/host -j2"
    f" (or pass --fw-host PATH / set {ENV_BINARY} to the binary)"
)
_STOP_TIMEOUT_S: Final = 3.0
# Lines that start a sanitizer report on stderr (AddressSanitizer, LeakSanitizer, UBSan).
_SANITIZER_MARKERS: Final = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# `device:` settings -> CLI flags and defaults: the device model's `settings:` table
# (protocol.device_model.SETTINGS), the same one emulator.host.DeviceSettings follows.
_FLAGS: Final[dict[str, str]] = {s.name: s.flag for s in SETTINGS if "fw_host" in s.hosts}
_DEFAULTS: Final[dict[str, object]] = {s.name: s.default for s in SETTINGS}
_TIMING_FIELDS: Final = frozenset(t.name for t in TIMING)
_HARNESS_OWNED: Final = ("server_url", "flash_dir", "audio_dir")


@dataclass(frozen=True)
class FirmwareHostOptions(TargetOptions):
    """Which `teddy-fw-host` binary runs (a plain or a sanitizer build)."""

    label: ClassVar[str] = "firmware-host"

    binary: Path = field(
        default=DEFAULT_BINARY,
        metadata=option(
            flag="--fw-host",
            env=ENV_BINARY,
            parse=path,
            metavar="PATH",
            help="the teddy-fw-host binary to run, e.g. the sanitizer build in build/host-asan",
            default_text="build/host/app/teddy-fw-host in the repo",
        ),
    )


def _timing_flags(timing: object) -> list[str]:
    if timing is None:
        return []
    if not isinstance(timing, Mapping):
        raise HilError("device.timing must be a mapping of DeviceTiming fields")
    flags: list[str] = []
    for name, value in timing.items():
        if name not in _TIMING_FIELDS:
            valid = ", ".join(sorted(_TIMING_FIELDS))
            raise HilError(f"device.timing: unknown setting {name}; valid: {valid}")
        if value is None:
            continue  # None = the server's value (heartbeat_interval_ms)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise HilError(f"device.timing.{name} must be a number, got {value!r}")
        flags += ["--timing-set", f"{name}={value}"]
    return flags


def device_flags(device: Mapping[str, object]) -> tuple[list[str], dict[str, object]]:
    """CLI flags for the scenario's `device:` mapping, and the settings with defaults."""
    values = {k: v for k, v in device.items() if k not in _HARNESS_OWNED}
    known = set(_DEFAULTS) | {"timing", "quirks"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise HilError(
            f"device: unknown setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
        )
    for name, value in values.items():
        if name in ("timing", "quirks"):
            continue
        problem = setting_problem(setting_spec(name), value)
        if problem is not None:
            raise HilError(f"device.{problem}")
    if values.get("speaker", "wav") != "wav":
        raise HilError("device.speaker: the firmware-host target only writes WAV files")
    settings = {**_DEFAULTS, **{k: v for k, v in values.items() if k not in ("timing", "quirks")}}
    flags = ["--timing", "fast"]
    for name, flag in _FLAGS.items():
        value = settings[name]
        if value is not None:
            flags += [flag, str(value)]
    flags += _timing_flags(values.get("timing"))
    try:  # SPEC Appendix C: on from every boot, like a build of buggy firmware
        quirks = quirks_from(values.get("quirks", []))
    except ValueError as exc:
        raise HilError(str(exc)) from None
    for quirk, value in quirks:
        flags += ["--quirk", quirk_flag(quirk, value)]
    return flags, settings


@register("firmware-host")
class FirmwareHostTarget(Target):
    description = "the C firmware (teddy_core + port_linux) as the teddy-fw-host subprocess"
    declared_capabilities = frozenset(TARGET_CAPABILITIES)  # a simulated board has them all

    options_type = FirmwareHostOptions

    def __init__(self, setup: TargetSetup) -> None:
        super().__init__(setup)
        self.options = FirmwareHostOptions.of(setup.options)
        self._flags, self._settings = device_flags(setup.device)
        self._flash = setup.work_dir / "flash"
        self._flash.mkdir(parents=True, exist_ok=True)
        setup.audio_dir.mkdir(parents=True, exist_ok=True)
        self._stderr_path = setup.work_dir / "teddy-fw-host.stderr.log"
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def audio_path(self) -> AudioPath:
        # port_linux's speaker writes out-<id>.wav as the DAC would play it (linux_audio.c).
        return SpeakerFiles(self.setup.audio_dir)

    @classmethod
    def unavailable_reason(cls, options: TargetOptions) -> str | None:
        binary = FirmwareHostOptions.of(options).binary
        if not binary.is_file():
            return f"{binary} is not built; build it with: {BUILD_HINT}"
        if not os.access(binary, os.X_OK):
            return f"{binary} is not executable"
        return None

    @property
    def flash_root(self) -> Path:
        return self._flash

    def device_vars(self) -> dict[str, object]:
        values = {k: v for k, v in self._settings.items() if v is not None}
        values.update(server_url=self.setup.server_url, flash_dir=str(self._flash))
        return values

    # --- process --------------------------------------------------------------------

    async def _spawn(self, reason: str) -> None:
        args = [
            str(self.options.binary),
            "--server",
            self.setup.server_url,
            "--flash",
            str(self._flash),
            "--audio",
            str(self.setup.audio_dir),
            "--console",
            "stdio",
            "--reset-reason",
            reason,
            *self._flags,
        ]
        with self._stderr_path.open("ab") as stderr:
            self._proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        self._reader = asyncio.create_task(self._read(self._proc))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        splitter = LineSplitter(self.lines.emit)
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            splitter.feed(chunk)
        status = await proc.wait()
        # SIGKILLed by a power cut or reset (`_kill` forgets the process first): a line it
        # was printing is the harness's cut (SPEC §8.1); an exit or death of its own is not.
        killed = proc is not self._proc and status == -signal.SIGKILL
        splitter.flush(cut="power-off" if killed else None)
        if proc is self._proc:  # not killed by a power cut, reset or stop: it died
            self._proc = None
            self.crashes.report(self._death(status))

    def _death(self, status: int) -> Crash:
        """Why the process ended on its own: its sanitizer report, else its exit status."""
        report = self._stderr_tail()
        first = next((ln for ln in report if any(m in ln for m in _SANITIZER_MARKERS)), None)
        what = f"sanitizer report: {first.strip()}" if first else f"exited with status {status}"
        detail = "\n".join(
            [
                f"teddy-fw-host {what} while the scenario ran"
                f" (the board died; full stderr: {self._stderr_path}):",
                *(f"    {line}" for line in report),
            ]
        )
        return Crash(reason=f"teddy-fw-host {what}", detail=detail)

    def _stderr_tail(self, lines: int = 60) -> list[str]:
        try:
            text = self._stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return text.splitlines()[-lines:]

    async def _kill(self) -> None:
        """SIGKILL: the board loses power at once, nothing more is written."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
            await proc.wait()
        await self._finish_reader()

    async def _finish_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(reader, timeout=1.0)
            reader.cancel()

    # --- Target ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._proc is not None:
            raise HilError("the board is already powered; power_cut() or stop() first")
        await self._spawn("poweron")

    async def write_line(self, line: str) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            return  # a board without power ignores its serial input
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write((line + "\n").encode())
            await proc.stdin.drain()

    async def power_cut(self) -> None:
        await self._kill()

    async def reset(self, reason: str = "power_on") -> None:
        await self._kill()
        await self._spawn(reset_reason(reason))

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None and proc.stdin is not None:
            proc.stdin.close()  # end of stdin: the board closes with 1001 and exits
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await proc.stdin.wait_closed()
        try:
            await asyncio.wait_for(proc.wait(), timeout=_STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        await self._finish_reader()
        self._check_sanitizers()

    def _check_sanitizers(self) -> None:
        """Fail the scenario on any ASan/UBSan/LSan report printed (LeakSanitizer at exit)."""
        try:
            text = self._stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            if any(marker in line for marker in _SANITIZER_MARKERS):
                raise HilError(
                    f"sanitizer report from teddy-fw-host: {line.strip()} "
                    f"(full report: {self._stderr_path})"
                )
