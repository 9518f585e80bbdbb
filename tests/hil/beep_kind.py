"""`beep`: a step kind that exists only for the tests, written as hil/README.md shows.

It is not in `hil.steps.kinds.BUILTIN`: tests register it (the `registered_beep`
fixture) and remove it again, or load it through a `teddy_hil.steps` entry point. Each
beep is a real SPEC §9 `text beep` command whose reply is checked, and the step defines
`${beeps}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil.scenario.fragments import obj
from hil.scenario.model import Action, Step
from hil.steps.build import At, InvalidStepError
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.steps.reply import send_command
from hil.targets.base import AUDIO_OUT
from protocol.console import Command, format_command

MAX_TIMES = 9


@dataclass(frozen=True)
class Beep(Action):
    times: int

    def captures(self) -> tuple[str, ...]:
        return ("beeps",)


def build(value: Any, at: At) -> Beep:
    if value["times"] > MAX_TIMES:
        raise InvalidStepError(f"beep at {at.where()}: at most {MAX_TIMES} times")
    return Beep(value["times"])


async def run(ctx: StepContext, action: Beep, step: Step) -> None:
    command = Command("text", ("beep",))
    for _ in range(action.times):
        await send_command(ctx, step, format_command(command), word=command.name)
    ctx.variables["beeps"] = action.times


KIND = StepKind(
    name="beep",
    schema=obj({"times": {"type": "integer", "minimum": 1}}, required=("times",)),
    model=Beep,
    build=build,
    run=run,
    needs=(AUDIO_OUT,),
    doc=Doc(form="`{times}`", does="beeps `times` times"),
)
