"""Sending a console line and checking its SPEC §9.3 reply (`console`, `talk`, `button`).

The reply is looked for without consuming it: events the device prints meanwhile stay
visible to the following `expect` steps. `word` is the `cmd` the reply carries: the
name of the Command sent, or for a line as written `protocol.console.command_word`.
"""

from __future__ import annotations

from typing import Final

from hil import expect as ex
from hil.errors import StepFailedError
from hil.scenario.model import Step
from hil.steps.context import StepContext
from hil.streams import Record

REPLIES: Final = ("ok", "error", "any", "none")  # `reply:` of a console step
_REPLY_EVENTS: Final = ("cmd.ok", "cmd.error")


def wanted_events(reply: str) -> tuple[str, ...]:
    return {"ok": ("cmd.ok",), "error": ("cmd.error",)}.get(reply, _REPLY_EVENTS)


async def send_command(
    ctx: StepContext, step: Step, line: str, *, word: str, reply: str = "ok"
) -> None:
    """Write `line`, then check its reply (`cmd.ok`/`cmd.error` with cmd=`word`)."""
    start = len(ctx.console.records)
    await ctx.target.write_line(line)
    if reply == "none":
        return
    wanted = wanted_events(reply)

    def is_reply(record: Record) -> bool:
        return record.name in _REPLY_EVENTS and record.data.get("cmd") == word

    within = ctx.timeout(step)
    async with ctx.deadline(step) as sim:
        record = await ex.wait_record(ctx.console, is_reply, start=start, within=within, sim=sim)
    if record is not None and record.name in wanted:
        return
    got = f"got {record.describe()}" if record else "no reply"
    if record is None and sim is not None:
        got += f" within {ex.after(within, sim)}"
    text = ex.report(
        headline=f"{step.label()}: console command {line!r} was not answered as expected",
        expected=f"{' or '.join(wanted)} with cmd={word!r} (SPEC §9.3), {got}",
        stream=ctx.console,
        start=start,
        console=ctx.console,
    )
    raise StepFailedError(text, reason=f"{line!r}: expected {'/'.join(wanted)}, {got}")
