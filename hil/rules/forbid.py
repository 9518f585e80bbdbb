"""A scenario's `forbid:` list: what must not happen anywhere in the run.

Owns the schema of an entry (a device event, a server event, or a wire record, as
`expect`, `expect_server` and `expect_wire` write them, plus an optional `because`) and
building it into a `hil.scenario.model.Forbid` with file:line problems. Unlike
`expect_absent`, which watches one window, a forbid entry is checked over the whole run
(`hil.rules.watch`).
"""

from __future__ import annotations

from typing import Any, Final

from hil.scenario.fragments import DEVICE_EVENT, MATCH, SERVER_EVENT, STR, Schema
from hil.scenario.model import Forbid
from hil.steps.build import At, InvalidStepError, event_pattern, one_source
from hil.steps.kinds.expect_wire import PATTERNS, wire_pattern
from hil.tap.pattern import PATTERN_KINDS

FORBID_ITEM: Final[Schema] = {
    "type": "object",
    "properties": {
        "event": DEVICE_EVENT,
        "server_event": SERVER_EVENT,
        "match": MATCH,
        **PATTERNS,
        "because": STR,
    },
    "additionalProperties": False,
    "x-hint": "event / server_event (+ match), or request / response / ws as in expect_wire",
}
FORBID: Final[Schema] = {"type": "array", "items": FORBID_ITEM}


def build_forbid(value: dict[str, Any], at: At) -> Forbid:
    """One schema-valid `forbid:` entry; InvalidStepError says what is wrong with it."""
    source = one_source(value, at, step="forbid")
    wires = [k for k in PATTERN_KINDS if k in value]
    because = str(value.get("because", ""))
    if source is not None and wires:
        raise InvalidStepError(f"forbid at {at.where()}: give an event or a wire record, not both")
    if source is not None:
        return Forbid(at.where(), event=event_pattern(*source, value, at), because=because)
    if not wires:
        raise InvalidStepError(
            f"forbid at {at.where()} needs event, server_event, request, response or ws"
        )
    if "match" in value:
        raise InvalidStepError(f"forbid at {at.where()}: `match` goes with an event")
    pattern = wire_pattern(value, at, step="forbid")
    return Forbid(at.where(), wire=pattern, because=because)
