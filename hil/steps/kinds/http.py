"""`http`: a raw request of the harness's own to the server, judged as the tap saw the answer.

For what a well-behaved device never sends (a legacy path, an upgrade without a token, a
forged token) and the server must still refuse as SPEC says. The request goes through the
wire tap (`${server.url}`), so it is on wire.jsonl with everything else; `expect` is the
`response` pattern of `expect_wire` (status, headers, body; hil.probe) and `capture` reads
the same paths. Templates (`${var}`) work in path, query, headers, json and body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, cast

from hil.probe import ProbeRequest, probe
from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import substitute, substitute_text
from hil.steps.build import At, InvalidStepError
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.steps.kinds.expect_wire import HEADERS, STATUS, wire_of, wire_pattern
from hil.tap.pattern import WirePattern, resolve
from hil.targets.base import WIRE
from hil.wire_expect import capture

METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
STRINGS: Final = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}


@dataclass(frozen=True)
class Http(Action):
    request: ProbeRequest
    expect: WirePattern
    capture: Mapping[str, str] = field(default_factory=dict)

    def captures(self) -> tuple[str, ...]:
        return tuple(self.capture)


def _strings(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in cast(Mapping[str, object], value or {}).items()}


def build(value: Any, at: At) -> Http:
    if "json" in value and "body" in value:
        raise InvalidStepError(f"http at {at.where()}: give json or body, not both")
    path = value["path"]
    if not path.startswith(("/", "${")):
        raise InvalidStepError(f"http at {at.where('path')}: {path!r} must start with /")
    expected = wire_pattern({"response": value.get("expect") or {}}, at, step="http")
    request = ProbeRequest(
        method=value.get("method", "GET"),
        path=path,
        query=_strings(value.get("query")),
        headers=_strings(value.get("headers")),
        json=value.get("json"),
        body=value.get("body"),
    )
    return Http(request, expected, dict(value.get("capture", {})))


def _resolved(request: ProbeRequest, variables: Mapping[str, object]) -> ProbeRequest:
    def text(mapping: Mapping[str, str]) -> dict[str, str]:
        return {k: substitute_text(v, variables) for k, v in mapping.items()}

    return replace(
        request,
        path=substitute_text(request.path, variables),
        query=text(request.query),
        headers=text(request.headers),
        json=substitute(request.json, variables),
        body=None if request.body is None else substitute_text(request.body, variables),
    )


async def run(ctx: StepContext, action: Http, step: Step) -> None:
    record = await probe(
        wire_of(ctx),
        str(ctx.variables["server.url"]),
        _resolved(action.request, ctx.variables),
        resolve(action.expect, ctx.variables),
        within=ctx.timeout(step),
        label=step.label(),
        console=ctx.console,
    )
    capture(record.data, action.capture, ctx.variables, label=step.label())


KIND = StepKind(
    name="http",
    schema=f.obj(
        {
            "method": {"enum": list(METHODS)},
            "path": f.STR,
            "query": STRINGS,
            "headers": STRINGS,
            "json": {},
            "body": f.STR,
            # The answer's part of expect_wire's `response` pattern.
            "expect": f.obj({"status": STATUS, "headers": HEADERS, "body": f.MATCH}),
            "capture": f.CAPTURE,
            "timeout": f.DURATION,
        },
        required=("path",),
    ),
    model=Http,
    build=build,
    run=run,
    needs=(WIRE,),
    doc=Doc(
        form="`{method, path, query, headers, json \\| body, expect: {status, headers, body},"
        " capture, timeout}`",
        does="a request of the harness's own through the wire tap (marked `X-Teddy-Probe`);"
        " the server's answer on the wire must match `expect`",
    ),
)
