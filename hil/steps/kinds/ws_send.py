"""`ws_send`: one frame of the harness's own, on the device's open WebSocket, to the server.

What a good device never sends (an unknown `type`, text that is not JSON, a binary
frame, a frame over a limit; SPEC §6.3, §6.6) goes on the device's live connection
through the wire tap (hil.tap.inject: masked, between two device messages) and is
recorded on wire.jsonl as a `ws` record marked `probe`, so the device-side rules skip it.
The step passes once the frame is out; the server's answer (an `error` frame with its
`error_code`, a close code) is checked with `expect_wire` after it, as any frame.

The payload is one of `text`, `json` (sent compact), `hex` (bytes, a binary frame by
default) or `size` (a `heartbeat` JSON padded to exactly that many bytes, or as many zero
bytes for `opcode: binary`); `opcode` overrides the frame type.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any, Final

from hil.errors import StepFailedError
from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import substitute, substitute_text
from hil.steps.build import At, InvalidStepError
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.tap.errors import TapError
from hil.tap.inject import OPCODES, Injection
from hil.targets.base import WIRE

PAYLOADS: Final = ("text", "json", "hex", "size")
_PAD_HEAD: Final = '{"type":"heartbeat","pad":"'
_PAD_TAIL: Final = '"}'


@dataclass(frozen=True)
class WsSend(Action):
    payload_kind: str  # one of PAYLOADS
    payload: object  # the text, JSON value, hex text or size as written
    opcode: str


def padded_heartbeat(size: int) -> bytes:
    """A valid `heartbeat` message of exactly `size` UTF-8 bytes (an oversize frame that is
    otherwise good, so only its size can be why the server refuses it)."""
    return (_PAD_HEAD + "x" * (size - len(_PAD_HEAD) - len(_PAD_TAIL)) + _PAD_TAIL).encode()


def build(value: Any, at: At) -> WsSend:
    given = [k for k in PAYLOADS if k in value]
    if len(given) != 1:
        raise InvalidStepError(
            f"ws_send at {at.where()}: give exactly one of {', '.join(PAYLOADS)}"
            f" (got {', '.join(given) or 'none'})"
        )
    kind = given[0]
    payload = value[kind]
    opcode = value.get("opcode", "binary" if kind == "hex" else "text")
    if kind == "hex" and "${" not in payload:
        try:
            bytes.fromhex(payload)
        except ValueError as exc:
            raise InvalidStepError(
                f"ws_send at {at.where('hex')}: {payload!r} is not hex ({exc})", sub=("hex",)
            ) from None
    minimum = len(_PAD_HEAD) + len(_PAD_TAIL)
    if kind == "size" and opcode == "text" and payload < minimum:
        raise InvalidStepError(
            f"ws_send at {at.where('size')}: a padded heartbeat takes at least {minimum} bytes;"
            " write text: for a shorter frame",
            sub=("size",),
        )
    return WsSend(kind, payload, opcode)


def payload_bytes(action: WsSend, variables: dict[str, object]) -> bytes:
    if action.payload_kind == "text":
        return substitute_text(str(action.payload), variables).encode("utf-8")
    if action.payload_kind == "json":
        value = substitute(action.payload, variables)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if action.payload_kind == "hex":
        return bytes.fromhex(substitute_text(str(action.payload), variables))
    size = int(str(action.payload))
    return padded_heartbeat(size) if action.opcode == "text" else bytes(size)


async def run(ctx: StepContext, action: WsSend, step: Step) -> None:
    if ctx.tap is None:
        raise StepFailedError(f"{step.label()}: no wire tap in this run", reason="no wire tap")
    injection = Injection(
        OPCODES[action.opcode], payload_bytes(action, ctx.variables), uuid.uuid4().hex[:12]
    )
    try:
        ctx.tap.inject(injection)
        await asyncio.wait_for(asyncio.shield(injection.sent), ctx.timeout(step))
    except TapError as exc:
        raise StepFailedError(f"{step.label()}: cannot send: {exc}", reason=str(exc)) from exc
    except TimeoutError:
        why = f"not sent within {ctx.timeout(step):g} s: waiting for {injection.waiting_for}"
        injection.fail(why)
        raise StepFailedError(f"{step.label()}: {why}", reason=why) from None


KIND = StepKind(
    name="ws_send",
    schema=f.obj(
        {
            "text": f.STR,
            "json": {},
            "hex": f.STR,
            "size": {"type": "integer", "minimum": 0, "maximum": 16 * 1024 * 1024},
            "opcode": {"enum": list(OPCODES)},
            "timeout": f.DURATION,
        }
    ),
    model=WsSend,
    build=build,
    run=run,
    needs=(WIRE,),
    doc=Doc(
        form="`{text \\| json \\| hex \\| size, opcode: text \\| binary, timeout}`",
        does="one frame of the harness's own on the device's open WebSocket, to the server"
        " (masked, between two device messages; a `ws` record marked `probe`); check the"
        " answer with `expect_wire`",
    ),
)
