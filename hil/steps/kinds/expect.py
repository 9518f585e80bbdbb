"""`expect`: a device event (SPEC §8.2) after the cursor; the cursor moves past it.

Searching forward from a cursor and moving it past the match are pexpect /
pytest-embedded semantics. `expect_server` (its own module) reuses the model, the
builder and the handler on the server side's event stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hil import expect as ex
from hil.scenario import fragments as f
from hil.scenario.model import SOURCE_DEVICE, SOURCE_SERVER, Action, EventPattern, Step
from hil.steps.build import At, event_pattern
from hil.steps.context import StepContext
from hil.steps.kind import Builder, Doc, StepKind
from hil.targets.base import SERVER_EVENTS


@dataclass(frozen=True)
class Expect(Action):
    pattern: EventPattern
    capture: Mapping[str, str] = field(default_factory=dict)

    def needs(self) -> frozenset[str]:
        return frozenset({SERVER_EVENTS}) if self.pattern.source == SOURCE_SERVER else frozenset()

    def captures(self) -> tuple[str, ...]:
        return tuple(self.capture)


def builder(source: str) -> Builder[Expect]:
    """The builder of `<event>` / `{event, match, capture}` on `source`'s stream."""

    def build(value: Any, at: At) -> Expect:
        body: dict[str, Any] = {"event": value} if isinstance(value, str) else value
        pattern = event_pattern(source, body["event"], body, at)
        return Expect(pattern, dict(body.get("capture", {})))

    return build


async def run(ctx: StepContext, action: Expect, step: Step) -> None:
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


KIND = StepKind(
    name="expect",
    schema=f.event_wait(f.DEVICE_EVENT),
    model=Expect,
    build=builder(SOURCE_DEVICE),
    run=run,
    doc=Doc(
        form="`<event>` or `{event, match, capture, timeout}`",
        does="a device event (SPEC §8.2) after the cursor",
    ),
)
