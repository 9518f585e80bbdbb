"""`expect_absent`: fails if a matching device or server event appears within a window.

The step runs for its whole `within` window by design, so that is its budget in the
runner's hang guard (`budget_s`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil import expect as ex
from hil.scenario import fragments as f
from hil.scenario.model import SOURCE_SERVER, Action, EventPattern, Step
from hil.scenario.values import parse_duration
from hil.steps.build import At, InvalidStepError, event_pattern, one_source
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import SERVER_EVENTS


@dataclass(frozen=True)
class ExpectAbsent(Action):
    pattern: EventPattern
    within: float

    def needs(self) -> frozenset[str]:
        return frozenset({SERVER_EVENTS}) if self.pattern.source == SOURCE_SERVER else frozenset()

    def budget_s(self) -> float:
        return self.within


def build(value: Any, at: At) -> ExpectAbsent:
    source = one_source(value, at, step="expect_absent")
    if source is None:
        raise InvalidStepError(f"expect_absent at {at.where()} needs event or server_event")
    pattern = event_pattern(source[0], source[1], value, at)
    return ExpectAbsent(pattern, parse_duration(value["within"]))


async def run(ctx: StepContext, action: ExpectAbsent, step: Step) -> None:
    pattern = ex.resolve(action.pattern, ctx.variables)
    async with ctx.deadline(step, action.within) as sim:
        await ex.expect_absent(
            ctx.stream(pattern.source),
            pattern,
            within=action.within,
            label=step.label(),
            console=ctx.console,
            sim=sim,
        )


KIND = StepKind(
    name="expect_absent",
    schema=f.obj(
        {
            "event": f.DEVICE_EVENT,
            "server_event": f.SERVER_EVENT,
            "match": f.MATCH,
            "within": f.DURATION,
        },
        required=("within",),
    ),
    model=ExpectAbsent,
    build=build,
    run=run,
    doc=Doc(
        form="`{event \\| server_event, match, within}`",
        does="fails if a matching event appears within the duration",
    ),
)
