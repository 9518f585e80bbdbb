"""The typed model of a loaded scenario: `Scenario`, its `Step`s, the `Action` base.

Each step holds exactly one action (a frozen dataclass defined by its step kind's
module in `hil/steps/kinds/`) plus its kind's name, its source location, explicit
timeout and required capabilities. Strings inside actions may still hold `${var}`
templates: they are filled in when the step runs, because captures only exist at run
time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hil.errors import display_path
from hil.tap.pattern import WirePattern, describe
from hil.targets.base import MULTI_DEVICE, SERVER_CONTROL
from protocol.provision import Provisioning

DEFAULT_TIMEOUT_S = 10.0
WALL = "wall"  # timeouts count seconds of the harness's clock (the default)
SIMULATED = "simulated"  # ... of the simulator's clock where the target has one (Wokwi)
CLOCKS = (WALL, SIMULATED)
PANIC_FAIL = "fail"  # a panic on the console fails the scenario at once (the default)
PANIC_EXPECTED = "expected"  # the scenario provokes one on purpose; its steps check it
PANICS = (PANIC_FAIL, PANIC_EXPECTED)
# The one device of a scenario that writes `device:` (or nothing); `devices:` names its own.
DEFAULT_DEVICE = "dut"
DEVICE_NAME_PATTERN = r"[a-z][a-z0-9_]{0,31}"  # used in file names and `${devices.<name>.x}`


@dataclass(frozen=True)
class Loc:
    """Where a step was written; `via` lists the include steps that pulled it in."""

    file: Path
    line: int
    via: tuple[tuple[Path, int], ...] = ()

    def __str__(self) -> str:
        text = f"{display_path(self.file)}:{self.line}"
        for file, line in reversed(self.via):
            text += f" (included from {display_path(file)}:{line})"
        return text


SOURCE_DEVICE = "device"  # EventPattern.source: the device's event lines (SPEC §8.2)
SOURCE_SERVER = "server"  # ... the server side's event stream (`ServerSide.events`)


@dataclass(frozen=True)
class EventPattern:
    """An event by name whose fields must match (`source`: SOURCE_DEVICE or SOURCE_SERVER)."""

    source: str
    event: str
    match: Mapping[str, object] = field(default_factory=dict)


class Action:
    """The typed value of one step; each step kind's module (`hil/steps/kinds/`) subclasses it.

    Subclasses are frozen dataclasses. `needs`, `captures` and `budget_s` depend on the
    values written (an `expect_absent` on a server event needs `server_events`).
    """

    def needs(self) -> frozenset[str]:
        """Capabilities these values need beyond the kind's own (`StepKind.needs`)."""
        return frozenset()

    def captures(self) -> tuple[str, ...]:
        """Variables the step defines when it passes (checked in step order at load)."""
        return ()

    def budget_s(self) -> float:
        """Seconds the step runs by design whatever its timeout (a pause, a quiet window).

        The runner's hang guard allows max(timeout, this), times the clock's wall factor.
        """
        return 0.0


@dataclass(frozen=True)
class BreakSpec:
    """How to damage a release image or lie in its manifest (SPEC §5.4 failure cases)."""

    sha256_mismatch: bool = False
    truncate: int | None = None
    random_bytes: int | None = None
    chip_id: int | None = None
    flip_byte: int | None = None
    manifest_version: str | None = None
    manifest_secure_version: int | None = None
    manifest_size: int | None = None

    @property
    def damages_image(self) -> bool:
        return any(v is not None for v in (self.truncate, self.random_bytes, self.flip_byte))


@dataclass(frozen=True)
class ReleaseSpec:
    version: str
    chip: str = "esp32"
    secure_version: int = 0
    mandatory: bool = False
    notes: str = ""
    behaviour: Mapping[str, object] | None = None
    payload_bytes: int = 0
    breaks: BreakSpec = field(default_factory=BreakSpec)


@dataclass(frozen=True)
class Step:
    index: int  # 1-based, after includes are expanded
    kind: str  # the step kind as written (`StepKind.name`, hil.steps.registry)
    action: Action
    loc: Loc
    timeout: float | None = None  # explicit timeout; None -> the scenario default
    requires: frozenset[str] = frozenset()  # explicit `requires:` of the step
    kind_needs: frozenset[str] = frozenset()  # what its kind always needs (`StepKind.needs`)
    name: str | None = None
    clock: str | None = None  # `clock:` of the step; None -> the scenario's
    on: str | None = None  # `on:` of the step (or of its include); None -> the first device

    def needs(self) -> frozenset[str]:
        return self.requires | self.kind_needs | self.action.needs()

    def label(self) -> str:
        title = f" ({self.name})" if self.name else ""
        device = f" on {self.on}" if self.on else ""
        return f"step {self.index} `{self.kind}`{title}{device} at {self.loc}"


@dataclass(frozen=True)
class Forbid:
    """One thing that must never happen in the run; `where` is its file:line."""

    where: str
    event: EventPattern | None = None  # a device or server event
    wire: WirePattern | None = None
    because: str = ""

    @property
    def stream(self) -> str:
        """Which log it watches: `device`, `server` or `wire`."""
        if self.wire is not None:
            return "wire"
        assert self.event is not None
        return self.event.source

    def what(self) -> str:
        if self.wire is not None:
            return describe(self.wire)
        assert self.event is not None
        source = "device event" if self.event.source == SOURCE_DEVICE else "server event"
        match = ", ".join(f"{k} =~ {v!r}" for k, v in self.event.match.items())
        return f"{source} {self.event.event}" + (f" with {match}" if match else "")


@dataclass(frozen=True)
class ServerSpec:
    profile: str = "development"
    access_ttl_s: int | None = None
    refresh_ttl_s: int | None = None
    heartbeat_interval_s: int | None = None
    keep_utterance_audio: bool | None = None
    chat_path: str | None = None  # the chat WebSocket's path (SPEC §2.5); None: the default
    rate_limits: tuple[int, int, float] | None = None  # per_device, per_ip, window_s
    # Defects of the original server to put back (protocol.server_quirks, SPEC Appendix B).
    quirks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Given:
    provisioning: Provisioning = field(default_factory=Provisioning)
    releases: tuple[ReleaseSpec, ...] = ()


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    description: str
    steps: tuple[Step, ...]
    tags: tuple[str, ...] = ()
    spec: tuple[str, ...] = ()  # SPEC sections it checks, "§2.4" (teddy-hil conformance)
    requires: frozenset[str] = frozenset()
    timeout: float = DEFAULT_TIMEOUT_S
    clock: str = WALL  # what step timeouts count by default (CLOCKS)
    strict_events: bool = True
    panic: str = PANIC_FAIL  # PANICS; a crash the target reports always fails
    forbid: tuple[Forbid, ...] = ()  # checked over the whole run (hil.rules)
    exempt: Mapping[str, str] = field(default_factory=dict)  # invariant id -> why it is off
    server: ServerSpec = field(default_factory=ServerSpec)
    given: Given = field(default_factory=Given)
    device: Mapping[str, object] = field(default_factory=dict)  # the first device's settings
    variables: Mapping[str, object] = field(default_factory=dict)
    # `devices:` (name -> settings, in the order written); empty: one DEFAULT_DEVICE, `device`.
    devices: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def device_settings(self) -> dict[str, Mapping[str, object]]:
        """Every device of the scenario by name, the first (steps without `on:`) first."""
        return dict(self.devices) if self.devices else {DEFAULT_DEVICE: self.device}

    def needs(self) -> dict[str, str]:
        """Every capability the scenario needs -> who needs it first (for skip reasons)."""
        needed = {cap: "the scenario's `requires`" for cap in sorted(self.requires)}
        if self.server != ServerSpec():
            needed.setdefault(SERVER_CONTROL, "the scenario's `server:` settings")
        if not self.given.provisioning.empty or self.given.releases:
            needed.setdefault(SERVER_CONTROL, "the scenario's `given:`")
        if len(self.devices) > 1:
            needed.setdefault(MULTI_DEVICE, f"the scenario's `devices:` ({len(self.devices)})")
        for step in self.steps:
            for cap in sorted(step.needs()):
                needed.setdefault(cap, step.label())
        return needed
