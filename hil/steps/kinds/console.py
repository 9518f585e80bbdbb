"""`console`: send a SPEC §9 console line and check its `cmd.ok` / `cmd.error` reply.

A line expected to be accepted (`reply: ok`, the default) is parsed at load time as the
device would parse it (protocol.console), so a typo fails `teddy-hil validate`, not the
run; to test a refusal write `reply: error`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import placeholder_text, substitute_text
from hil.steps.build import At, InvalidStepError
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.steps.reply import REPLIES, send_command
from protocol.console import command_word, parse_command
from protocol.errors import CommandError


@dataclass(frozen=True)
class Console(Action):
    line: str
    reply: str = "ok"  # ok | error | any | none (SPEC §9.3)


def build(value: Any, at: At) -> Console:
    body = {"line": value} if isinstance(value, str) else value
    action = Console(line=body["line"], reply=body.get("reply", "ok"))
    if action.reply == "ok":
        try:
            parse_command(placeholder_text(action.line))
        except CommandError as exc:
            raise InvalidStepError(
                f"console line {action.line!r} at {at.where()} would be refused "
                f"({exc.reason}: {exc}); to test a refusal write reply: error"
            ) from None
    return action


async def run(ctx: StepContext, action: Console, step: Step) -> None:
    line = substitute_text(action.line, ctx.variables)
    # The reply names the command by its first word as typed, also when refused.
    await send_command(ctx, step, line, word=command_word(line), reply=action.reply)


KIND = StepKind(
    name="console",
    schema=f.line_or(
        "line", {"line": f.STR, "reply": {"enum": list(REPLIES)}, "timeout": f.DURATION}
    ),
    model=Console,
    build=build,
    run=run,
    doc=Doc(
        form='`"<line>"` or `{line, reply: ok\\|error\\|any\\|none, timeout}`',
        does="sends a SPEC §9 line, checks its `cmd.ok` (default) / `cmd.error` reply; "
        "lines the parser would refuse need `reply: error`",
    ),
)
