"""`expect_line`: a console line where a regex is found; named groups become variables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hil import expect as ex
from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import placeholder_text, substitute_text
from hil.steps.build import At, check_regex
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind


@dataclass(frozen=True)
class ExpectLine(Action):
    pattern: str

    def captures(self) -> tuple[str, ...]:
        return tuple(re.compile(placeholder_text(self.pattern)).groupindex)


def build(value: Any, at: At) -> ExpectLine:
    pattern = value if isinstance(value, str) else value["pattern"]
    check_regex(pattern, at)
    return ExpectLine(pattern)


async def run(ctx: StepContext, action: ExpectLine, step: Step) -> None:
    pattern = substitute_text(action.pattern, ctx.variables, regex=True)
    async with ctx.deadline(step) as sim:
        found = await ex.expect_line(
            ctx.console, pattern, within=ctx.timeout(step), label=step.label(), sim=sim
        )
    ctx.variables.update({k: v for k, v in found.groupdict().items() if v is not None})


KIND = StepKind(
    name="expect_line",
    schema=f.line_or("pattern", {"pattern": f.STR, "timeout": f.DURATION}),
    model=ExpectLine,
    build=build,
    run=run,
    doc=Doc(
        form='`"<regex>"` or `{pattern, timeout}`',
        does="a console line where the regex is found; named groups become variables",
    ),
)
