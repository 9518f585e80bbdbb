"""What a step handler works with: `StepContext` (target, console, server side, wire, variables).

`target` and `console` are the device the step acts on: the runner hands each step
`ctx.on(step)`, the context of the device its `on:` names (`devices`, by name; the first
device without `on:`). Variables, the wire and the server side are the scenario's, shared
by all devices.

`said` lists what `talk` told each device to say and `measured` what a step measured
(step index -> values, copied into the step's result whether it passed or not); both are
shared by all devices, like the variables. `artifacts` is the scenario's folder.

`wire` is the scenario's `WireLog` (hil.tap records) when the runner's tap is in place
(capability `wire`), else None; `tap` is that tap itself, for frames of the harness's own
on the device's WebSocket (`ws_send`, hil.tap.inject).

Timeouts count wall time, or simulated time for a step with `clock: simulated` (or a
scenario-wide `clock: simulated`) on a target with a simulated clock (`ctx.clock(step)`
says which one a step used; the runner records it in the step's result).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hil import expect as ex
from hil.errors import HilError
from hil.scenario import model as m
from hil.steps.server_side import ServerSide
from hil.streams import DeviceConsole, Stream, WireLog
from hil.tap.tap import WireTap
from hil.targets.base import Target


@dataclass(frozen=True)
class Said:
    """What the harness told a device to say (`talk`): the reference `expect_audio` compares
    the server's received audio with (`of: utterance`)."""

    device: str
    t: float  # scenario seconds when the command was sent
    phrase: str | None = None
    clip: str | None = None


# A simulation may run this many times slower than real time before a step in simulated
# time counts as stalled (Wokwi's ESP32 with Wi-Fi runs at roughly real time or slower).
SIM_WALL_FACTOR: Final = 10.0


@dataclass(frozen=True)
class Device:
    """One device of the scenario: its name (`devices:` key), target and console."""

    name: str
    target: Target
    console: DeviceConsole


@dataclass
class StepContext:
    scenario: m.Scenario
    target: Target
    console: DeviceConsole
    server: ServerSide
    variables: dict[str, object] = field(default_factory=dict)
    wire: WireLog | None = None
    tap: WireTap | None = None
    # Every device by name, the first first (empty: just `target` and `console`).
    devices: Mapping[str, Device] = field(default_factory=dict)
    device: str = m.DEFAULT_DEVICE  # the name of the device `target`/`console` belong to
    # The scenario's artifact folder (wire-audio/, server-audio/, audio-truth/ live there).
    artifacts: Path | None = None
    # Shared by every device's context (dataclasses.replace keeps the same objects):
    said: list[Said] = field(default_factory=list)  # every `talk`, in order
    measured: dict[int, dict[str, object]] = field(default_factory=dict)  # step index -> values

    def on(self, step: m.Step) -> StepContext:
        """The context `step` runs in: that of the device its `on:` names (same variables)."""
        if step.on is None or step.on == self.device:
            return self
        chosen = self.devices.get(step.on)
        if chosen is None:  # the loader refuses undeclared names; a hand-built scenario may not
            names = ", ".join(self.devices) or self.device
            raise HilError(f"{step.label()}: no device {step.on!r}; the run has: {names}")
        return dataclasses.replace(
            self, target=chosen.target, console=chosen.console, device=chosen.name
        )

    def timeout(self, step: m.Step) -> float:
        return step.timeout if step.timeout is not None else self.scenario.timeout

    def stream(self, source: str) -> Stream:
        """The device console, or the server side's event stream for SOURCE_SERVER."""
        return self.server.events if source == m.SOURCE_SERVER else self.console

    def clock(self, step: m.Step) -> str:
        """The clock `step`'s timeout counts: simulated only where the target has one."""
        wanted = step.clock or self.scenario.clock
        simulated = wanted == m.SIMULATED and self.target.simulated_clock is not None
        return m.SIMULATED if simulated else m.WALL

    def wall_factor(self, step: m.Step) -> float:
        """How much longer than its timeout the step may take in wall time."""
        return SIM_WALL_FACTOR if self.clock(step) == m.SIMULATED else 1.0

    @contextlib.asynccontextmanager
    async def deadline(
        self, step: m.Step, seconds: float | None = None
    ) -> AsyncIterator[ex.SimDeadline | None]:
        """The simulated deadline of `step` (its timeout, or `seconds`); None on wall time."""
        within = self.timeout(step) if seconds is None else seconds
        clock = self.target.simulated_clock
        if clock is None or self.clock(step) != m.SIMULATED:
            yield None
            return
        async with clock.deadline(within) as expired:
            yield ex.SimDeadline(expired, wall_s=within * SIM_WALL_FACTOR)
