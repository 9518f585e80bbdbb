"""`publish`: publish a `<release>` (hil.scenario.release) as the newest for its chip, now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil.scenario.model import Action, ReleaseSpec, Step
from hil.scenario.release import RELEASE, release_spec
from hil.steps.build import At
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import SERVER_CONTROL


@dataclass(frozen=True)
class Publish(Action):
    release: ReleaseSpec


def build(value: Any, at: At) -> Publish:
    return Publish(release_spec(value, at))


async def run(ctx: StepContext, action: Publish, step: Step) -> None:
    await ctx.server.publish(action.release)


KIND = StepKind(
    name="publish",
    schema=RELEASE,
    model=Publish,
    build=build,
    run=run,
    needs=(SERVER_CONTROL,),
    doc=Doc(form="`<release>`", does="publishes a release now"),
)
