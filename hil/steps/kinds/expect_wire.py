"""`expect_wire`: a request, a response or a WebSocket frame on the wire tap (`wire`).

Searches the scenario's wire log (wire.jsonl, hil.tap) forward from its cursor, like
`expect` searches the console, and moves the cursor past the match. One of `request`,
`response` or `ws` says what to look for (hil.tap.pattern); `capture` stores values of the
match (`status`, `headers.<name>`, `body.<path>`, `query.<name>`, a frame's message
field). `expect_wire_absent` reuses the pattern schema and builder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from hil import wire_expect as wx
from hil.errors import HilError
from hil.scenario import fragments as f
from hil.scenario.fragments import Schema
from hil.scenario.model import Action, Step
from hil.steps.build import At, InvalidStepError, check_regex, match_values
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.streams import WireLog
from hil.tap.pattern import PATTERN_KINDS, WirePattern, resolve
from hil.tap.records import DIRECTIONS, WS_OPCODES
from hil.targets.base import WIRE

HEADERS: Final[Schema] = {
    "type": "object",
    "additionalProperties": {"type": ["string", "null"]},
    "x-hint": "header name (any case) -> regex of its value, or null for absent",
}
STATUS: Final[Schema] = {"type": ["integer", "string"], "x-hint": "200, or a regex: 4\\d\\d"}
HTTP: Final[dict[str, Schema]] = {
    "method": f.STR,
    "path": f.STR,
    "query": f.MATCH,
    "headers": HEADERS,
    "body": f.MATCH,
}
PATTERNS: Final[dict[str, Schema]] = {
    "request": f.obj(HTTP),
    "response": f.obj({**HTTP, "status": STATUS}),
    "ws": f.obj(
        {
            "dir": {"enum": list(DIRECTIONS)},
            "opcode": {"enum": [op for op in WS_OPCODES if op != "continuation"]},
            "type": f.STR,
            "match": f.MATCH,
        }
    ),
}


@dataclass(frozen=True)
class ExpectWire(Action):
    pattern: WirePattern
    capture: Mapping[str, str] = field(default_factory=dict)

    def captures(self) -> tuple[str, ...]:
        return tuple(self.capture)


def wire_pattern(value: dict[str, Any], at: At, *, step: str) -> WirePattern:
    """The pattern under the one key of `request`, `response`, `ws` that `value` has."""
    given = [k for k in PATTERN_KINDS if k in value]
    if len(given) != 1:
        found = ", ".join(given) or "none"
        raise InvalidStepError(
            f"{step} at {at.where()}: give exactly one of request, response, ws (found: {found})"
        )
    kind = given[0]
    body: dict[str, Any] = value[kind] or {}
    for key in ("method", "path", "type"):
        if isinstance(body.get(key), str):
            check_regex(body[key], at, kind, key)
    status = body.get("status")
    if isinstance(status, str):
        check_regex(status, at, kind, "status")
    return WirePattern(
        kind=kind,
        method=body.get("method"),
        path=body.get("path"),
        status=status,
        query=match_values(body.get("query"), at, kind, "query"),
        headers=match_values(body.get("headers"), at, kind, "headers"),
        body=match_values(body.get("body"), at, kind, "body"),
        direction=body.get("dir"),
        opcode=body.get("opcode"),
        type=body.get("type"),
        match=match_values(body.get("match"), at, kind, "match"),
    )


def build(value: Any, at: At) -> ExpectWire:
    return ExpectWire(wire_pattern(value, at, step="expect_wire"), dict(value.get("capture", {})))


def wire_of(ctx: StepContext) -> WireLog:
    if ctx.wire is None:  # the runner offers `wire` only with a tap in place
        raise HilError("no wire tap between the target and the server (capability `wire`)")
    return ctx.wire


async def run(ctx: StepContext, action: ExpectWire, step: Step) -> None:
    pattern = resolve(action.pattern, ctx.variables)
    async with ctx.deadline(step) as sim:
        record = await wx.expect_wire(
            wire_of(ctx),
            pattern,
            within=ctx.timeout(step),
            label=step.label(),
            console=ctx.console,
            sim=sim,
        )
    wx.capture(record.data, action.capture, ctx.variables, label=step.label())


KIND = StepKind(
    name="expect_wire",
    schema=f.obj({**PATTERNS, "capture": f.CAPTURE, "timeout": f.DURATION}),
    model=ExpectWire,
    build=build,
    run=run,
    needs=(WIRE,),
    doc=Doc(
        form="`{request \\| response: {method, path, query, headers, body, status}, capture,"
        " timeout}` or `{ws: {dir, opcode, type, match}, capture, timeout}`",
        does="an HTTP request/response or a WebSocket frame on the wire tap after the wire"
        " cursor (wire.jsonl); the cursor moves past it",
    ),
)
