"""`expect_wire_absent`: fails if a matching record crosses the wire tap within a window.

The pattern is `expect_wire`'s (`request`, `response` or `ws`); the wire cursor does not
move. The step runs for its whole `within` window by design: its budget (`budget_s`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil import wire_expect as wx
from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import parse_duration
from hil.steps.build import At
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.steps.kinds.expect_wire import PATTERNS, wire_of, wire_pattern
from hil.tap.pattern import WirePattern, resolve
from hil.targets.base import WIRE


@dataclass(frozen=True)
class ExpectWireAbsent(Action):
    pattern: WirePattern
    within: float

    def budget_s(self) -> float:
        return self.within


def build(value: Any, at: At) -> ExpectWireAbsent:
    pattern = wire_pattern(value, at, step="expect_wire_absent")
    return ExpectWireAbsent(pattern, parse_duration(value["within"]))


async def run(ctx: StepContext, action: ExpectWireAbsent, step: Step) -> None:
    pattern = resolve(action.pattern, ctx.variables)
    async with ctx.deadline(step, action.within) as sim:
        await wx.expect_wire_absent(
            wire_of(ctx),
            pattern,
            within=action.within,
            label=step.label(),
            console=ctx.console,
            sim=sim,
        )


KIND = StepKind(
    name="expect_wire_absent",
    schema=f.obj({**PATTERNS, "within": f.DURATION}, required=("within",)),
    model=ExpectWireAbsent,
    build=build,
    run=run,
    needs=(WIRE,),
    doc=Doc(
        form="`{request \\| response \\| ws: <as expect_wire>, within}`",
        does="fails if a matching record crosses the wire tap within the duration",
    ),
)
