"""`power_cut`: the device loses power instantly (`Target.power_cut`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.steps.build import At
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import POWER_CUT


@dataclass(frozen=True)
class PowerCut(Action):
    pass


def build(value: Any, at: At) -> PowerCut:
    return PowerCut()


async def run(ctx: StepContext, action: PowerCut, step: Step) -> None:
    await ctx.target.power_cut()


KIND = StepKind(
    name="power_cut",
    schema=f.obj({}, null=True),
    model=PowerCut,
    build=build,
    run=run,
    needs=(POWER_CUT,),
    doc=Doc(form="`{}`", does="instant power loss"),
)
