"""`expect_reply`: the server's reply to an utterance (SPEC §6.5): its text and its audio.

Waits for a `text.rx` matching `text` / `transcript` and for the reply audio's
`audio.rx.end` (SPEC §8.2), in either order and within one timeout, without hiding
events printed in between; the cursor then moves past both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hil import expect as ex
from hil.scenario import fragments as f
from hil.scenario.model import SOURCE_DEVICE, Action, EventPattern, Step
from hil.steps.build import At, check_regex
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind


@dataclass(frozen=True)
class ExpectReply(Action):
    text: str | None = None
    transcript: str | None = None
    capture: Mapping[str, str] = field(default_factory=dict)

    def captures(self) -> tuple[str, ...]:
        return tuple(self.capture)


def build(value: Any, at: At) -> ExpectReply:
    body = value or {}
    for key in ("text", "transcript"):
        if key in body:
            check_regex(body[key], at, key)
    return ExpectReply(body.get("text"), body.get("transcript"), dict(body.get("capture", {})))


async def run(ctx: StepContext, action: ExpectReply, step: Step) -> None:
    fields = {"text": action.text, "transcript": action.transcript}
    text_rx = EventPattern(SOURCE_DEVICE, "text.rx", {k: v for k, v in fields.items() if v})
    text_rx = ex.resolve(text_rx, ctx.variables)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.timeout(step)
    start = ctx.console.cursor
    label = step.label()
    async with ctx.deadline(step) as sim:
        text = await ex.expect_event(
            ctx.console,
            text_rx,
            within=ctx.timeout(step),
            label=label,
            console=ctx.console,
            consume=False,
            start=start,
            sim=sim,
        )
        audio_end = EventPattern(SOURCE_DEVICE, "audio.rx.end")
        remaining = ctx.timeout(step) if sim else max(0.0, deadline - loop.time())
        audio = await ex.expect_event(
            ctx.console,
            audio_end,
            within=remaining,
            label=label,
            console=ctx.console,
            consume=False,
            start=start,
            sim=sim,
        )
    ctx.console.cursor = max(text.index, audio.index) + 1
    ex.capture({**audio.data, **text.data}, action.capture, ctx.variables, label=step.label())


KIND = StepKind(
    name="expect_reply",
    schema=f.obj(
        {"text": f.STR, "transcript": f.STR, "capture": f.CAPTURE, "timeout": f.DURATION},
        null=True,
    ),
    model=ExpectReply,
    build=build,
    run=run,
    doc=Doc(
        form="`{text, transcript, capture, timeout}` (all optional)",
        does="`text.rx` matching text/transcript and the reply's `audio.rx.end`",
    ),
)
