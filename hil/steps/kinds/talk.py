"""`talk`: speak a phrase or a clip into the device (`talk "<phrase>"` / `talk <clip>`).

The console Command is built by one function, `talk_command`, both at load time (with
`${var}`s stood in for, to check the device would accept it) and at run time (with
the variables' values), so what is checked is what is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import placeholder_text, substitute_text
from hil.steps.build import At, InvalidStepError
from hil.steps.context import Said, StepContext
from hil.steps.kind import Doc, StepKind
from hil.steps.reply import send_command
from hil.targets.base import AUDIO_IN
from protocol.console import Command, format_command, parse_command
from protocol.errors import CommandError


@dataclass(frozen=True)
class Talk(Action):
    phrase: str | None = None
    clip: str | None = None


def talk_command(action: Talk, fill: Callable[[str], str]) -> Command:
    """The SPEC §9.2 `talk` Command for `action`, its templates filled in by `fill`."""
    if action.phrase is not None:
        return Command("talk", phrase=fill(action.phrase))
    return Command("talk", (fill(action.clip or ""),))


def build(value: Any, at: At) -> Talk:
    body = {"phrase": value} if isinstance(value, str) else value
    given = [k for k in ("phrase", "clip") if k in body]
    if len(given) != 1:
        raise InvalidStepError(f"talk at {at.where()} needs exactly one of phrase, clip")
    action = Talk(phrase=body.get("phrase"), clip=body.get("clip"))
    try:
        parse_command(format_command(talk_command(action, placeholder_text)))
    except CommandError as exc:
        raise InvalidStepError(f"talk at {at.where()} would be refused: {exc}") from None
    return action


async def run(ctx: StepContext, action: Talk, step: Step) -> None:
    command = talk_command(action, lambda text: substitute_text(text, ctx.variables))
    said = Said(
        ctx.device,
        ctx.console.clock.now(),
        phrase=command.phrase,
        clip=command.args[0] if command.args else None,
    )
    await send_command(ctx, step, format_command(command), word=command.name)
    ctx.said.append(said)


KIND = StepKind(
    name="talk",
    schema={
        "type": ["string", "object"],
        "properties": {"phrase": f.STR, "clip": f.STR, "timeout": f.DURATION},
        "additionalProperties": False,
    },
    model=Talk,
    build=build,
    run=run,
    needs=(AUDIO_IN,),
    doc=Doc(
        form='`"<phrase>"`, `{phrase}` or `{clip}`',
        does='`talk "<phrase>"` / `talk <clip>`, then `cmd.ok`',
    ),
)
