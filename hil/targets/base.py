"""The `Target` interface every device under test implements, and its line plumbing.

A target is anything that prints SPEC §8 event lines on a console and accepts SPEC §9
commands: the Python emulator, the firmware built for the host, a board on a serial
port, a Wokwi simulation. Like labgrid's drivers, a target declares what it can do as
capability names; the runner checks them before it powers anything on, so a scenario
needing `power_cut` on a target without it is skipped with a reason, never passed
(`capability_notes` add why a target lacks one). A simulator offers its clock
(`simulated_clock`) for steps whose timeouts count simulated time.

What a target needs from the person running it (a port, a build, a binary) is its
options: a frozen dataclass (`options_type`, `hil.targets.options`) that `ChosenTarget`
pairs with the class and `TargetSetup.options` hands to the instance; availability
(`unavailable_reason`) and the capabilities known before start are answered from it.

Console output reaches the harness through `Target.lines` (a `LineBuffer`): targets
that read bytes use `LineSplitter`, which never raises on garbage (non-UTF-8 bytes are
replaced, overlong lines cut), because a misbehaving device must fail a scenario, not
crash the runner.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Final

from hil.errors import MissingCapabilityError
from hil.targets.audio_path import AudioPath
from hil.targets.crash import CrashLog
from hil.targets.options import NoOptions, OptionError, TargetOptions

# Capability names: the closed vocabulary of what a target or the server can do (hil/README.md,
# "Capabilities"). Targets declare a subset; the server side adds its own.
AUDIO_IN: Final = "audio_in"  # can speak an utterance (talk, push-to-talk)
AUDIO_OUT: Final = "audio_out"  # plays/records the reply audio
# The harness hears what the speaker played (`Target.audio_path`: the emulated DAC's output
# files, or a sound card at a board's amplifier), so `expect_audio` can judge the sound.
AUDIO_CAPTURE: Final = "audio_capture"
OTA: Final = "ota"  # downloads and applies firmware (SPEC §5.4, §5.5)
POWER_CUT: Final = "power_cut"  # can lose power instantly
NETWORK_FAULTS: Final = "network_faults"  # its link can be broken on purpose
BUTTON: Final = "button"  # has a push-to-talk button
RESET: Final = "reset"  # can be reset from outside (power cycle / EN pin)
# Its device_id and OOB secret come from the scenario's `device:` (a real board's come from
# its MAC and its manufacturing NVS, so identity scenarios are skipped there).
IDENTITY: Final = "identity"
# Its flash can be read as files while it runs (`Target.flash_root`, expect_files `in: device`).
DEVICE_FILES: Final = "device_files"
# The server can be reset and set up: `given:`, `server:` settings, `publish`, `set_config`
# (the embedded server always; a server at a URL through the SPEC §11 admin API).
SERVER_CONTROL: Final = "server_control"
# It can run several devices in one scenario (`devices:`), each with its own work dir and
# console, against the same server and tap (the runner makes one instance per device).
MULTI_DEVICE: Final = "multi_device"
# The scenario's `device: {quirks: [...]}` (SPEC Appendix C) is on from the first boot.
QUIRKS: Final = "quirks"
SERVER_EVENTS: Final = "server_events"  # the reference server publishes events
SERVER_FAULTS: Final = "server_faults"  # the reference server injects faults
SERVER_FILES: Final = "server_files"  # its data folder can be read (expect_files `in: server`)
# What each utterance's recogniser received is a file of the scenario (`server-audio/`, the
# server setting received_audio_dir, SPEC §6.5 rule 10): the embedded server only.
SERVER_AUDIO: Final = "server_audio"
# The runner's wire tap is between the target and the server (wire.jsonl, expect_wire).
WIRE: Final = "wire"
TARGET_CAPABILITIES: Final = (
    AUDIO_IN,
    AUDIO_OUT,
    AUDIO_CAPTURE,
    OTA,
    POWER_CUT,
    NETWORK_FAULTS,
    BUTTON,
    RESET,
    IDENTITY,
    DEVICE_FILES,
    MULTI_DEVICE,
    QUIRKS,
)
SERVER_CAPABILITIES: Final = (
    SERVER_CONTROL,
    SERVER_EVENTS,
    SERVER_FAULTS,
    SERVER_FILES,
    SERVER_AUDIO,
)
RUNNER_CAPABILITIES: Final = (WIRE,)
ALL_CAPABILITIES: Final = TARGET_CAPABILITIES + SERVER_CAPABILITIES + RUNNER_CAPABILITIES

MAX_LINE_CHARS: Final = 8192  # far above any SPEC §8 line; longer output is cut
CUT_LINE_MARK: Final = "[line cut by "  # starts a line the harness cut off (`cut_line`)


@dataclass(frozen=True)
class TargetSetup:
    """What the runner gives a target: the server, where to keep files, its options."""

    server_url: str
    work_dir: Path  # target-owned scratch space inside the scenario's artifact folder
    audio_dir: Path  # received/sent audio as WAV (rx-<id>.wav, tx-<id>.wav)
    device: Mapping[str, object] = field(default_factory=dict)  # the scenario's `device:`
    options: TargetOptions = field(default_factory=NoOptions)  # an instance of options_type


LineListener = Callable[[str], None]


class SimulatedClock(abc.ABC):
    """A simulator's clock (Wokwi): steps may count their timeouts in simulated time."""

    @abc.abstractmethod
    def deadline(self, seconds: float) -> AbstractAsyncContextManager[asyncio.Future[None]]:
        """Within the block, the future completes once `seconds` of simulated time passed."""


class LineBuffer:
    """Fan-out of console lines to listeners (the expect engine, a live printer)."""

    def __init__(self) -> None:
        self._listeners: list[LineListener] = []

    def subscribe(self, listener: LineListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: LineListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, line: str) -> None:
        """Deliver one line (already split, without its newline) to every listener."""
        for listener in list(self._listeners):
            listener(clean_line(line))


def clean_line(line: str) -> str:
    """One console line as the harness stores it: no trailing CR, bounded length."""
    line = line.rstrip("\r\n").removesuffix("\r")
    if len(line) > MAX_LINE_CHARS:
        cut = len(line) - MAX_LINE_CHARS
        line = f"{line[:MAX_LINE_CHARS]} [line cut: {cut} more characters]"
    return line


def cut_line(text: str, why: str) -> str:
    """A line the harness cut off before its LF, as free text (SPEC §8.1, "Cut lines").

    When the harness powers a board off, resets it or closes its port, the bytes of the
    line being printed are kept but marked, so `@teddy 97 ` cut by a power cut is
    evidence of the cut, not a malformed event line of the target.
    """
    return f"{CUT_LINE_MARK}{why}] {text}"


class LineSplitter:
    """Bytes from a serial port or pipe -> lines, split on LF only (SPEC §8.1).

    Feed it into `LineBuffer.emit`, which strips the CR and cuts overlong lines.
    """

    def __init__(self, emit: LineListener, *, max_chars: int = MAX_LINE_CHARS) -> None:
        self._emit = emit
        self._max = max_chars
        self._pending = bytearray()

    def feed(self, data: bytes) -> None:
        self._pending += data
        while True:
            end = self._pending.find(b"\n")
            if end < 0:
                break
            raw = bytes(self._pending[:end])
            del self._pending[: end + 1]
            self._emit(raw.decode("utf-8", errors="replace"))
        if len(self._pending) > self._max * 4:  # a device that never sends LF
            self.flush()

    def flush(self, *, cut: str | None = None) -> None:
        """Emit the bytes still waiting for an LF; `cut` names who cut them off (`cut_line`)."""
        if self._pending:
            raw = bytes(self._pending)
            self._pending.clear()
            text = raw.decode("utf-8", errors="replace")
            self._emit(text if cut is None else cut_line(text, cut))


class Target(abc.ABC):
    """A device under test. Subclasses register with `@register("<name>")`.

    The runner calls `start` once, then `write_line`/`power_cut`/`reset` as steps ask,
    and always `stop` at the end, also after a failure. Every console line the device
    prints must be passed to `self.lines.emit` (without its newline).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # What the target can do, declared up front so scenarios are checked before start.
    declared_capabilities: ClassVar[frozenset[str]] = frozenset()
    # Why a capability is missing, when the reason is worth saying ("no I2S in Wokwi"):
    # appended to the skip reason of scenarios that need it.
    capability_notes: ClassVar[Mapping[str, str]] = {}
    # The options a run of this target is given (`hil.targets.options`); the CLI and the
    # pytest plugin offer their flags.
    options_type: ClassVar[type[TargetOptions]] = NoOptions

    def __init__(self, setup: TargetSetup) -> None:
        self.options_type.of(setup.options)  # another target's options: a clear error
        self.setup = setup
        self.lines = LineBuffer()
        # Crashes only the target can see (a traceback, a sanitizer report): the runner
        # races every step against `crashes.wait()` (hil.targets.crash).
        self.crashes = CrashLog()

    @classmethod
    def unavailable_reason(cls, options: TargetOptions) -> str | None:
        """None when the target can run here with `options`, else why not (the skip reason)."""
        return None

    @classmethod
    def offered_capabilities(cls, options: TargetOptions) -> frozenset[str]:
        """What the target offers with `options`, known before anything starts.

        The runner skips scenarios needing more before it starts a server; an instance
        may narrow it further (`capabilities`, e.g. to a board's wiring).
        """
        return cls.declared_capabilities

    @property
    def capabilities(self) -> frozenset[str]:
        return self.declared_capabilities

    def device_vars(self) -> dict[str, object]:
        """Settings scenarios may use as `${device.<name>}` (defaults filled in)."""
        return dict(self.setup.device)

    @property
    def audio_path(self) -> AudioPath | None:
        """How the harness hears the speaker (capability `audio_capture`), when it can."""
        return None

    @property
    def flash_root(self) -> Path:
        """The folder that holds the device's flash as files (capability `device_files`)."""
        raise MissingCapabilityError(
            f"target {self.name!r} cannot show its flash as files (capability {DEVICE_FILES!r})"
        )

    @property
    def simulated_clock(self) -> SimulatedClock | None:
        """The simulator's clock, or None: step timeouts in simulated time use wall time."""
        return None

    async def wait_lost(self) -> str:
        """Return the reason once the device is gone for good mid-run (a serial port closed).

        The runner races every step against this, so a lost board fails the scenario at
        once instead of at the step's timeout. Targets that cannot lose their device
        keep the default, which never returns (the runner cancels it).
        """
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable: the future above is never completed")

    @abc.abstractmethod
    async def start(self) -> None:
        """Power on: the device boots and starts printing."""

    @abc.abstractmethod
    async def write_line(self, line: str) -> None:
        """Send one console command (SPEC §9) without its newline."""

    @abc.abstractmethod
    async def power_cut(self) -> None:
        """Lose power at once; nothing more is written (needs `power_cut`)."""

    @abc.abstractmethod
    async def reset(self, reason: str = "power_on") -> None:
        """Power cycle or reset pin, then boot again (needs `reset`)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Shut down and release every resource; must be safe to call twice."""


@dataclass(frozen=True)
class ChosenTarget:
    """A target class and the options it runs with: what `RunRequest` and `run_scenario` take."""

    cls: type[Target]
    options: TargetOptions

    def __post_init__(self) -> None:
        if not isinstance(self.options, self.cls.options_type):
            raise OptionError(
                f"target {self.cls.name or self.cls.__name__} takes"
                f" {self.cls.options_type.__name__}, got {type(self.options).__name__}"
            )

    @classmethod
    def of(cls, target: type[Target], options: TargetOptions | None = None) -> ChosenTarget:
        """`target` with `options`, or with its options' defaults when None."""
        return cls(target, target.options_type() if options is None else options)

    @property
    def name(self) -> str:
        return self.cls.name

    def unavailable_reason(self) -> str | None:
        return self.cls.unavailable_reason(self.options)

    def offered_capabilities(self) -> frozenset[str]:
        return self.cls.offered_capabilities(self.options)


def image_mismatch(
    device: Mapping[str, object],
    *,
    holder: str,
    version: str | None,
    secure_version: int | None,
    remedy: str,
) -> str | None:
    """Why a scenario cannot run on the fixed image a board or a simulation holds, or None.

    A scenario's `device.firmware_version` / `secure_version` choose the factory image on
    the emulator and the host build; a board runs what was flashed and Wokwi what was
    uploaded, so a scenario written for another image is skipped with this reason (raise
    `MissingCapabilityError` with it) instead of failing on it. `remedy`: "flash", "build".
    """
    wanted = device.get("firmware_version")
    if wanted is not None and version is not None and str(wanted) != version:
        return (
            f"{holder} runs firmware {version}, the scenario needs {wanted}"
            f" (device.firmware_version): {remedy} an image of that version,"
            " or run it on the emulator"
        )
    wanted_sv = device.get("secure_version")
    if wanted_sv is not None and secure_version is not None and wanted_sv != secure_version:
        return (
            f"{holder}'s image has secure_version {secure_version}, the scenario needs"
            f" {wanted_sv} (device.secure_version): {remedy} such an image,"
            " or run it on the emulator"
        )
    return None
