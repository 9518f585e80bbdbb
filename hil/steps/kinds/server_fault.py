"""`server_fault`: make the server misbehave on purpose (`ServerSide.inject_fault`).

Chat faults go to the open chat connections (or the next one to open); `http_status`
answers the next `count` requests below `path` with `status`; `cut_download` cuts the
next `count` image downloads after `after_bytes`. Which keys a kind takes is checked at
load time (the schema cannot say it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.steps.build import At, InvalidStepError
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.steps.server_side import CUT_DOWNLOAD, FAULT_KINDS, HTTP_STATUS, FaultSpec
from hil.targets.base import SERVER_FAULTS

# Keys each fault kind needs besides `kind` and `count` (the others take none).
_FAULT_KEYS: Final = {HTTP_STATUS: {"path", "status"}, CUT_DOWNLOAD: {"after_bytes"}}


@dataclass(frozen=True)
class ServerFault(Action):
    fault: FaultSpec


def build(value: Any, at: At) -> ServerFault:
    kind = value["kind"]
    needed = _FAULT_KEYS.get(kind, set())
    extra = set(value) - {"kind", "count"} - needed
    missing = needed - set(value)
    if missing or extra:
        wants = ", ".join(sorted(needed)) or "only count"
        raise InvalidStepError(f"server_fault {kind} at {at.where()} takes {wants}")
    return ServerFault(
        FaultSpec(
            kind=kind,
            count=value.get("count", 1),
            path=value.get("path"),
            status=value.get("status"),
            after_bytes=value.get("after_bytes"),
        )
    )


async def run(ctx: StepContext, action: ServerFault, step: Step) -> None:
    await ctx.server.inject_fault(action.fault)


KIND = StepKind(
    name="server_fault",
    schema=f.obj(
        {
            "kind": {"enum": list(FAULT_KINDS)},
            "count": {"type": "integer", "minimum": 1},
            "path": {"type": "string", "pattern": "^/"},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "after_bytes": f.NONNEG,
        },
        required=("kind",),
    ),
    model=ServerFault,
    build=build,
    run=run,
    needs=(SERVER_FAULTS,),
    doc=Doc(
        form="`{kind, count}`; `{kind: http_status, path, status, count}`; "
        "`{kind: cut_download, after_bytes, count}`",
        does="kinds: " + ", ".join(FAULT_KINDS),
    ),
)
