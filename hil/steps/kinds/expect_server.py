"""`expect_server`: like `expect`, on the server side's event stream (`server_events`)."""

from __future__ import annotations

from hil.scenario import fragments as f
from hil.scenario.model import SOURCE_SERVER
from hil.steps.kind import Doc, StepKind
from hil.steps.kinds.expect import Expect, builder, run
from hil.targets.base import SERVER_EVENTS

KIND = StepKind(
    name="expect_server",
    schema=f.event_wait(f.SERVER_EVENT),
    model=Expect,
    build=builder(SOURCE_SERVER),
    run=run,
    needs=(SERVER_EVENTS,),
    doc=Doc(
        form="`<event>` or `{event, match, capture, timeout}`",
        does="a server event (`server.events`)",
    ),
)
