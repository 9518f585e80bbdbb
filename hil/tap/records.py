"""The wire record vocabulary: record kinds, directions, and the one-line form of each.

One record is one JSON object of `wire.jsonl` (hil/README.md, "The wire log", documents
every member). Every record has `t` (seconds on the scenario's clock, the origin of
console.log and server-events.jsonl), `conn` (the tapped TCP connection, numbered from 1
per scenario), `dir` (`up` = device -> server, `down` = server -> device) and `kind`:

- `connect`: the device opened a TCP connection (`peer`, `upstream`);
- `request`: a request ended, its body complete (`method`, `target`, `path`, `query`,
  `query_params`, `http_version`, `headers`, `body`, `exchange`);
- `response`: a response ended or was cut (`status`, `reason`, `headers`, `body`,
  `complete`, and `method`/`target`/`path`/`exchange` of its request);
- `ws`: a WebSocket message or control frame ended (`opcode`, `size`, `frames`,
  `frame_bytes`, `compressed`, `sha256`; `type`/`fields` of a JSON text; `code`/`reason`
  of a close; `probe` on a frame the harness itself sent, hil.tap.inject);
- `error`: a side sent what the tap cannot decode (`error`, `preview`); the bytes are
  still forwarded;
- `close`: the connection ended (`how`: `eof`, `reset`, `tap_stop`, `upstream_failed`;
  `bytes_up`, `bytes_down`; `unanswered`: requests that got no response).

`describe` is the compact line failure reports show (`#3 down GET /api/v1/esp32/config
-> 304`); `hil.streams.WireLog` stores it as each record's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

UP: Final = "up"  # device -> server
DOWN: Final = "down"  # server -> device
DIRECTIONS: Final = (UP, DOWN)

CONNECT: Final = "connect"
REQUEST: Final = "request"
RESPONSE: Final = "response"
WS: Final = "ws"
ERROR: Final = "error"
CLOSE: Final = "close"
KINDS: Final = (CONNECT, REQUEST, RESPONSE, WS, ERROR, CLOSE)

# `close.how`
EOF: Final = "eof"  # a side shut down its sending half (FIN)
RESET: Final = "reset"  # a side reset the connection (RST) or its socket failed
TAP_STOP: Final = "tap_stop"  # the scenario ended with the connection open
UPSTREAM_FAILED: Final = "upstream_failed"  # the tap could not reach the server

WS_OPCODES: Final = ("continuation", "text", "binary", "close", "ping", "pong")

# What the harness sends itself (hil.probe, hil.tap.inject) is marked, so the rules about
# the device skip it: the request header of an `http` probe, the `ws` member of a frame.
PROBE_HEADER: Final = "x-teddy-probe"
PROBE_MEMBER: Final = "probe"


def size_text(size: object) -> str:
    if not isinstance(size, int):
        return "? B"
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def _body_size(record: Mapping[str, object]) -> str:
    body = record.get("body")
    size = body.get("size") if isinstance(body, Mapping) else None
    return f" {size_text(size)}" if isinstance(size, int) and size else ""


def _ws_text(record: Mapping[str, object]) -> str:
    opcode = str(record.get("opcode"))
    if opcode == "close":
        code, reason = record.get("code"), record.get("reason")
        return f"ws close {code}" + (f" {reason!r}" if reason else "")
    what = record.get("type") if isinstance(record.get("type"), str) else opcode
    frames = record.get("frames")
    parts = f" in {frames} frames" if isinstance(frames, int) and frames > 1 else ""
    bad = " (not JSON)" if "json_error" in record else ""
    return f"ws {what} {size_text(record.get('size'))}{parts}{bad}"


def _what(record: Mapping[str, object]) -> str:
    kind = record.get("kind")
    if kind == REQUEST:
        return f"{record.get('method')} {record.get('target')}{_body_size(record)}"
    if kind == RESPONSE:
        cut = "" if record.get("complete", True) else " (cut)"
        status = f"{record.get('status')}{_body_size(record)}{cut}"
        return f"{record.get('method')} {record.get('path')} -> {status}"
    if kind == WS:
        return _ws_text(record)
    if kind == CONNECT:
        return f"connect from {record.get('peer')}"
    if kind == CLOSE:
        up, down = size_text(record.get("bytes_up")), size_text(record.get("bytes_down"))
        return f"closed ({record.get('how')}) {up} up, {down} down"
    if kind == ERROR:
        return f"cannot decode: {record.get('error')}"
    return str(kind)


def describe(record: Mapping[str, object]) -> str:
    """`#<conn> <dir> <what>`: one line for a failure report."""
    return f"#{record.get('conn')} {record.get('dir', ''):<4} {_what(record)}"
