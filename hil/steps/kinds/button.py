"""`button`: press or release the push-to-talk button (console `button press|release`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil.scenario.model import Action, Step
from hil.steps.build import At
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.steps.reply import send_command
from hil.targets.base import AUDIO_IN, BUTTON
from protocol.console import CHOICE_COMMANDS, Command, format_command


@dataclass(frozen=True)
class Button(Action):
    action: str = "press"


def build(value: Any, at: At) -> Button:
    return Button(value)


async def run(ctx: StepContext, action: Button, step: Step) -> None:
    command = Command("button", (action.action,))
    await send_command(ctx, step, format_command(command), word=command.name)


KIND = StepKind(
    name="button",
    schema={"enum": list(CHOICE_COMMANDS["button"])},
    model=Button,
    build=build,
    run=run,
    needs=(BUTTON, AUDIO_IN),  # SPEC §9.3: button needs audio_in
    doc=Doc(form="`press` \\| `release`", does="push-to-talk"),
)
