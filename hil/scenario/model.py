"""The typed model of a loaded scenario: `Scenario`, its `Step`s and their actions.

Each step holds exactly one action (a frozen dataclass per step kind) plus its source
location, explicit timeout and required capabilities. Strings inside actions may
still hold `${var}` templates: they are filled in when the step runs, because
captures only exist at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from hil.errors import display_path
from hil.targets import base as caps
from protocol.provision import Provisioning

DEFAULT_TIMEOUT_S = 10.0
WALL = "wall"  # timeouts count seconds of the harness's clock (the default)
SIMULATED = "simulated"  # ... of the simulator's clock where the target has one (Wokwi)
CLOCKS = (WALL, SIMULATED)


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


@dataclass(frozen=True)
class EventPattern:
    """An event by name whose fields must match (`source` is `device` or `server`)."""

    source: str
    event: str
    match: Mapping[str, object] = field(default_factory=dict)


class Action:
    kind: ClassVar[str] = ""

    def needs(self) -> frozenset[str]:
        """Capabilities this action needs from the target or the server."""
        return frozenset()


@dataclass(frozen=True)
class Console(Action):
    kind: ClassVar[str] = "console"
    line: str
    reply: str = "ok"  # ok | error | any | none (SPEC §9.3)


@dataclass(frozen=True)
class Talk(Action):
    kind: ClassVar[str] = "talk"
    phrase: str | None = None
    clip: str | None = None

    def needs(self) -> frozenset[str]:
        return frozenset({caps.AUDIO_IN})


@dataclass(frozen=True)
class Button(Action):
    kind: ClassVar[str] = "button"
    action: str = "press"

    def needs(self) -> frozenset[str]:
        return frozenset({caps.BUTTON, caps.AUDIO_IN})  # SPEC §9.3: button needs audio_in


def _source_needs(source: str) -> frozenset[str]:
    return frozenset({caps.SERVER_EVENTS}) if source == "server" else frozenset()


@dataclass(frozen=True)
class Expect(Action):
    kind: ClassVar[str] = "expect"
    pattern: EventPattern
    capture: Mapping[str, str] = field(default_factory=dict)

    def needs(self) -> frozenset[str]:
        return _source_needs(self.pattern.source)


@dataclass(frozen=True)
class ExpectLine(Action):
    kind: ClassVar[str] = "expect_line"
    pattern: str


@dataclass(frozen=True)
class ExpectReply(Action):
    kind: ClassVar[str] = "expect_reply"
    text: str | None = None
    transcript: str | None = None
    capture: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpectAbsent(Action):
    kind: ClassVar[str] = "expect_absent"
    pattern: EventPattern
    within: float

    def needs(self) -> frozenset[str]:
        return _source_needs(self.pattern.source)


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
class Publish(Action):
    kind: ClassVar[str] = "publish"
    release: ReleaseSpec


@dataclass(frozen=True)
class SetConfig(Action):
    kind: ClassVar[str] = "set_config"
    values: Mapping[str, object]


@dataclass(frozen=True)
class PowerCut(Action):
    kind: ClassVar[str] = "power_cut"

    def needs(self) -> frozenset[str]:
        return frozenset({caps.POWER_CUT})


@dataclass(frozen=True)
class Reboot(Action):
    kind: ClassVar[str] = "reboot"
    reason: str | None = None

    def needs(self) -> frozenset[str]:
        return frozenset({caps.RESET})


@dataclass(frozen=True)
class ServerFault(Action):
    kind: ClassVar[str] = "server_fault"
    fault: str
    count: int = 1
    path: str | None = None
    status: int | None = None
    after_bytes: int | None = None

    def needs(self) -> frozenset[str]:
        return frozenset({caps.SERVER_FAULTS})


@dataclass(frozen=True)
class Wait(Action):
    kind: ClassVar[str] = "wait"
    seconds: float | None = None
    pattern: EventPattern | None = None
    capture: Mapping[str, str] = field(default_factory=dict)

    def needs(self) -> frozenset[str]:
        return _source_needs(self.pattern.source) if self.pattern else frozenset()


@dataclass(frozen=True)
class Step:
    index: int  # 1-based, after includes are expanded
    action: Action
    loc: Loc
    timeout: float | None = None  # explicit timeout; None -> the scenario default
    requires: frozenset[str] = frozenset()  # explicit `requires:` of the step
    name: str | None = None
    clock: str | None = None  # `clock:` of the step; None -> the scenario's

    @property
    def kind(self) -> str:
        return self.action.kind

    def needs(self) -> frozenset[str]:
        return self.requires | self.action.needs()

    def label(self) -> str:
        title = f" ({self.name})" if self.name else ""
        return f"step {self.index} `{self.kind}`{title} at {self.loc}"


@dataclass(frozen=True)
class ServerSpec:
    profile: str = "development"
    access_ttl_s: int | None = None
    refresh_ttl_s: int | None = None
    heartbeat_interval_s: int | None = None
    keep_utterance_audio: bool | None = None
    rate_limits: tuple[int, int, float] | None = None  # per_device, per_ip, window_s


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
    requires: frozenset[str] = frozenset()
    timeout: float = DEFAULT_TIMEOUT_S
    clock: str = WALL  # what step timeouts count by default (CLOCKS)
    strict_events: bool = True
    server: ServerSpec = field(default_factory=ServerSpec)
    given: Given = field(default_factory=Given)
    device: Mapping[str, object] = field(default_factory=dict)
    variables: Mapping[str, object] = field(default_factory=dict)

    def needs(self) -> dict[str, str]:
        """Every capability the scenario needs -> who needs it first (for skip reasons)."""
        needed = {cap: "the scenario's `requires`" for cap in sorted(self.requires)}
        for step in self.steps:
            for cap in sorted(step.needs()):
                needed.setdefault(cap, step.label())
        return needed
