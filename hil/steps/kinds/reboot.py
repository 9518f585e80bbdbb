"""`reboot`: power-cycle the device from outside (`Target.reset`).

A software reboot is the console command instead (`console: reboot`, SPEC §9.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import substitute_text
from hil.steps.build import At
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import RESET


@dataclass(frozen=True)
class Reboot(Action):
    reason: str | None = None


def build(value: Any, at: At) -> Reboot:
    return Reboot((value or {}).get("reason"))


async def run(ctx: StepContext, action: Reboot, step: Step) -> None:
    if action.reason is None:
        await ctx.target.reset()
    else:
        await ctx.target.reset(substitute_text(action.reason, ctx.variables))


KIND = StepKind(
    name="reboot",
    schema=f.obj({"reason": f.STR}, null=True),
    model=Reboot,
    build=build,
    run=run,
    needs=(RESET,),
    doc=Doc(
        form="`{}` or `{reason}`",
        does="`target.reset(reason)` (power cycle); software reboot = `console: reboot`",
    ),
)
