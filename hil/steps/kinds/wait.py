"""`wait`: a pause of `seconds`, or the *next* occurrence of a device or server event.

A pause is only for where a real duration is the point, never a stand-in for a
condition. Waiting for an event ignores ones already
seen, unlike `expect`. A pause runs its `seconds` by design: that is its budget in the
runner's hang guard (`budget_s`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hil import expect as ex
from hil.errors import HilError
from hil.scenario import fragments as f
from hil.scenario.model import SOURCE_SERVER, Action, EventPattern, Step
from hil.scenario.values import parse_duration
from hil.steps.build import At, InvalidStepError, event_pattern, one_source
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import SERVER_EVENTS


@dataclass(frozen=True)
class Wait(Action):
    seconds: float | None = None
    pattern: EventPattern | None = None
    capture: Mapping[str, str] = field(default_factory=dict)

    def needs(self) -> frozenset[str]:
        server = self.pattern is not None and self.pattern.source == SOURCE_SERVER
        return frozenset({SERVER_EVENTS}) if server else frozenset()

    def captures(self) -> tuple[str, ...]:
        return tuple(self.capture)

    def budget_s(self) -> float:
        return self.seconds or 0.0


def build(value: Any, at: At) -> Wait:
    source = one_source(value, at, step="wait")
    if source is not None and "seconds" in value:
        raise InvalidStepError(f"wait at {at.where()}: give seconds or an event, not both")
    if source is None:
        if "seconds" not in value:
            raise InvalidStepError(f"wait at {at.where()} needs seconds, event or server_event")
        if set(value) & {"match", "capture", "timeout"}:
            raise InvalidStepError(f"wait at {at.where()}: match/capture/timeout need an event")
        return Wait(seconds=parse_duration(value["seconds"]))
    pattern = event_pattern(source[0], source[1], value, at)
    return Wait(pattern=pattern, capture=dict(value.get("capture", {})))


async def _pause(ctx: StepContext, step: Step, seconds: float) -> None:
    async with ctx.deadline(step, seconds) as sim:
        if sim is None:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait_for(asyncio.shield(sim.expired), sim.wall_s)
        except TimeoutError:
            raise HilError(f"the simulation did not run {ex.after(seconds, sim)}") from None


async def run(ctx: StepContext, action: Wait, step: Step) -> None:
    if action.pattern is None:
        await _pause(ctx, step, action.seconds or 0.0)
        return
    pattern = ex.resolve(action.pattern, ctx.variables)
    stream = ctx.stream(pattern.source)
    async with ctx.deadline(step) as sim:
        record = await ex.expect_event(
            stream,
            pattern,
            within=ctx.timeout(step),
            label=step.label(),
            console=ctx.console,
            start=len(stream.records),  # the next occurrence, not one already seen
            sim=sim,
        )
    ex.capture(record.data, action.capture, ctx.variables, label=step.label())


KIND = StepKind(
    name="wait",
    schema=f.obj(
        {
            "seconds": f.DURATION,
            "event": f.DEVICE_EVENT,
            "server_event": f.SERVER_EVENT,
            "match": f.MATCH,
            "capture": f.CAPTURE,
            "timeout": f.DURATION,
        }
    ),
    model=Wait,
    build=build,
    run=run,
    doc=Doc(
        form="`{seconds}` or `{event \\| server_event, match, capture, timeout}`",
        does="a pause (only where a real duration is the point) or the *next* occurrence "
        "of an event, ignoring ones already seen",
    ),
)
