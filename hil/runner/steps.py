"""What each step kind does, one handler per action type (a table, not an if/elif).

Handlers get a `StepContext` (target, console, server, variables) and the step; they
raise `StepFailedError` with a full report when the device or server did not behave.
Console-like steps (`console`, `talk`, `button`) wait for the SPEC §9.3 reply of the
command they sent without consuming it, so events printed meanwhile stay visible to
the following `expect` steps.

Timeouts count wall time, or simulated time for a step with `clock: simulated` (or a
scenario-wide `clock: simulated`) on a target with a simulated clock (`ctx.clock(step)`
says which one a step used; the runner records it in the step's result).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from hil import expect as ex
from hil.errors import HilError, StepFailedError
from hil.runner.server_setup import ServerHandle
from hil.scenario import model as m
from hil.scenario.values import substitute, substitute_text
from hil.streams import DeviceConsole, Record, ServerEventLog, Stream
from hil.targets.base import Target
from protocol.console import Command, format_command

A = TypeVar("A", bound=m.Action)
Handler = Callable[["StepContext", Any, m.Step], Awaitable[None]]
HANDLERS: dict[type[m.Action], Handler] = {}
# A simulation may run this many times slower than real time before a step in simulated
# time counts as stalled (Wokwi's ESP32 with Wi-Fi runs at roughly real time or slower).
SIM_WALL_FACTOR: Final = 10.0


@dataclass
class StepContext:
    scenario: m.Scenario
    target: Target
    console: DeviceConsole
    server_log: ServerEventLog
    server: ServerHandle
    variables: dict[str, object] = field(default_factory=dict)

    def timeout(self, step: m.Step) -> float:
        return step.timeout if step.timeout is not None else self.scenario.timeout

    def stream(self, source: str) -> Stream:
        return self.server_log if source == "server" else self.console

    def clock(self, step: m.Step) -> str:
        """The clock `step`'s timeout counts: simulated only where the target has one."""
        wanted = step.clock or self.scenario.clock
        simulated = wanted == m.SIMULATED and self.target.simulated_clock is not None
        return m.SIMULATED if simulated else m.WALL

    def wall_factor(self, step: m.Step) -> float:
        """How much longer than its timeout the step may take in wall time."""
        return SIM_WALL_FACTOR if self.clock(step) == m.SIMULATED else 1.0

    @contextlib.asynccontextmanager
    async def deadline(
        self, step: m.Step, seconds: float | None = None
    ) -> AsyncIterator[ex.SimDeadline | None]:
        """The simulated deadline of `step` (its timeout, or `seconds`); None on wall time."""
        within = self.timeout(step) if seconds is None else seconds
        clock = self.target.simulated_clock
        if clock is None or self.clock(step) != m.SIMULATED:
            yield None
            return
        async with clock.deadline(within) as expired:
            yield ex.SimDeadline(expired, wall_s=within * SIM_WALL_FACTOR)


def handles(
    action: type[A],
) -> Callable[
    [Callable[[StepContext, A, m.Step], Awaitable[None]]],
    Callable[[StepContext, A, m.Step], Awaitable[None]],
]:
    def register(func: Callable[[StepContext, A, m.Step], Awaitable[None]]) -> Any:
        HANDLERS[action] = func
        return func

    return register


async def run_step(ctx: StepContext, step: m.Step) -> None:
    await HANDLERS[type(step.action)](ctx, step.action, step)


async def _send_command(ctx: StepContext, step: m.Step, line: str, *, reply: str) -> None:
    """Write `line`, then check the SPEC §9.3 reply (`cmd.ok` / `cmd.error`)."""
    start = len(ctx.console.records)
    await ctx.target.write_line(line)
    if reply == "none":
        return
    word = line.split(None, 1)[0] if line.strip() else ""
    wanted = {"ok": ("cmd.ok",), "error": ("cmd.error",)}.get(reply, ("cmd.ok", "cmd.error"))

    def is_reply(record: Record) -> bool:
        return record.name in ("cmd.ok", "cmd.error") and record.data.get("cmd") == word

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


@handles(m.Console)
async def _console(ctx: StepContext, action: m.Console, step: m.Step) -> None:
    line = substitute_text(action.line, ctx.variables)
    await _send_command(ctx, step, line, reply=action.reply)


@handles(m.Talk)
async def _talk(ctx: StepContext, action: m.Talk, step: m.Step) -> None:
    if action.phrase is not None:
        command = Command("talk", phrase=substitute_text(action.phrase, ctx.variables))
    else:
        command = Command("talk", (substitute_text(action.clip or "", ctx.variables),))
    await _send_command(ctx, step, format_command(command), reply="ok")


@handles(m.Button)
async def _button(ctx: StepContext, action: m.Button, step: m.Step) -> None:
    await _send_command(ctx, step, f"button {action.action}", reply="ok")


@handles(m.Expect)
async def _expect(ctx: StepContext, action: m.Expect, step: m.Step) -> None:
    pattern = ex.resolve(action.pattern, ctx.variables)
    async with ctx.deadline(step) as sim:
        record = await ex.expect_event(
            ctx.stream(pattern.source),
            pattern,
            within=ctx.timeout(step),
            label=step.label(),
            console=ctx.console,
            sim=sim,
        )
    ex.capture(record.data, action.capture, ctx.variables, label=step.label())


@handles(m.ExpectLine)
async def _expect_line(ctx: StepContext, action: m.ExpectLine, step: m.Step) -> None:
    pattern = substitute_text(action.pattern, ctx.variables, regex=True)
    async with ctx.deadline(step) as sim:
        found = await ex.expect_line(
            ctx.console, pattern, within=ctx.timeout(step), label=step.label(), sim=sim
        )
    ctx.variables.update({k: v for k, v in found.groupdict().items() if v is not None})


@handles(m.ExpectReply)
async def _expect_reply(ctx: StepContext, action: m.ExpectReply, step: m.Step) -> None:
    """`text.rx` matching text/transcript, and the reply audio's `audio.rx.end` (SPEC §8.2)."""
    fields = {"text": action.text, "transcript": action.transcript}
    text_rx = m.EventPattern("device", "text.rx", {k: v for k, v in fields.items() if v})
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
        audio_end = m.EventPattern("device", "audio.rx.end")
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


@handles(m.ExpectAbsent)
async def _expect_absent(ctx: StepContext, action: m.ExpectAbsent, step: m.Step) -> None:
    pattern = ex.resolve(action.pattern, ctx.variables)
    async with ctx.deadline(step, action.within) as sim:
        await ex.expect_absent(
            ctx.stream(pattern.source),
            pattern,
            within=action.within,
            label=step.label(),
            console=ctx.console,
            sim=sim,
        )


@handles(m.Wait)
async def _wait(ctx: StepContext, action: m.Wait, step: m.Step) -> None:
    if action.pattern is None:
        seconds = action.seconds or 0.0
        async with ctx.deadline(step, seconds) as sim:
            if sim is None:
                await asyncio.sleep(seconds)
                return
            try:
                await asyncio.wait_for(asyncio.shield(sim.expired), sim.wall_s)
            except TimeoutError:
                raise HilError(f"the simulation did not run {ex.after(seconds, sim)}") from None
        return
    pattern = ex.resolve(action.pattern, ctx.variables)
    stream = ctx.stream(pattern.source)
    async with ctx.deadline(step) as sim:
        record = await ex.expect_event(
            stream,
            pattern,
            within=ctx.timeout(step),
            label=step.label(),
            console=ctx.console,
            start=len(stream.records),  # the next occurrence, not one already seen
            sim=sim,
        )
    ex.capture(record.data, action.capture, ctx.variables, label=step.label())


@handles(m.Publish)
async def _publish(ctx: StepContext, action: m.Publish, step: m.Step) -> None:
    await asyncio.to_thread(ctx.server.publish, action.release)


@handles(m.SetConfig)
async def _set_config(ctx: StepContext, action: m.SetConfig, step: m.Step) -> None:
    for key, value in action.values.items():
        ctx.server.state.store.set_config(key, substitute(value, ctx.variables))


@handles(m.PowerCut)
async def _power_cut(ctx: StepContext, action: m.PowerCut, step: m.Step) -> None:
    await ctx.target.power_cut()


@handles(m.Reboot)
async def _reboot(ctx: StepContext, action: m.Reboot, step: m.Step) -> None:
    if action.reason is None:
        await ctx.target.reset()
    else:
        await ctx.target.reset(substitute_text(action.reason, ctx.variables))


@handles(m.ServerFault)
async def _server_fault(ctx: StepContext, action: m.ServerFault, step: m.Step) -> None:
    faults = ctx.server.state.faults
    if action.fault == "http_status":
        assert action.path is not None and action.status is not None
        faults.http_status(action.path, action.status, count=action.count)
    elif action.fault == "cut_download":
        assert action.after_bytes is not None
        faults.cut_download(action.after_bytes, count=action.count)
    else:
        faults.inject(action.fault, count=action.count)
