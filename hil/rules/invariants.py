"""Built-in protocol invariants: rules from SPEC that every run must keep, on the wire.

Each `Invariant` has an id (what a scenario names in `exempt:` to switch it off, with a
written reason), the SPEC section it comes from, one line saying what it requires, and a
checker: a fresh one per run (some remember what they saw, e.g. the claim nonces), fed
every wire record (`hil/README.md`, "The wire log") and answering a violation or None.
They judge what went over the wire, evidence neither the device nor the server can fake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from hil.tap.records import PROBE_HEADER, PROBE_MEMBER
from protocol.constants import CLAIM_PATH, DOWNLINK_MAX_FRAME_BYTES
from protocol.messages import DEVICE_MESSAGE_TYPES, SERVER_MESSAGE_TYPES

WireRecord = Mapping[str, object]
Checker = Callable[[WireRecord], str | None]

# RFC 3986 query: unreserved, percent-encoded octets, and the `=`/`&` of a form query.
_ENCODED_QUERY: Final = re.compile(r"(?:[A-Za-z0-9\-._~=&]|%[0-9A-Fa-f]{2})*")
_BEARER: Final = re.compile(r"Bearer [^\s]+")
_REQUEST_LINE: Final = re.compile(r"[A-Z]+ (.+) HTTP/\d\.\d")


@dataclass(frozen=True)
class Invariant:
    id: str
    spec: str
    requires: str
    checker: Callable[[], Checker]  # a new checker per run

    def title(self) -> str:
        return f"{self.id} (SPEC {self.spec}): {self.requires}"


def header(record: WireRecord, name: str) -> str | None:
    """The first value of header `name` (case-insensitive) of a request or response."""
    headers = record.get("headers")
    if not isinstance(headers, Sequence):
        return None
    for pair in headers:
        if isinstance(pair, Sequence) and len(pair) == 2 and str(pair[0]).lower() == name:
            return str(pair[1])
    return None


def _kind(record: WireRecord, kind: str, direction: str | None = None) -> bool:
    return record.get("kind") == kind and (direction is None or record.get("dir") == direction)


def _device_request(record: WireRecord) -> bool:
    """A request the device sent: the harness's own probes (hil.probe) break device rules
    on purpose, and only what the server answers them is judged."""
    return _kind(record, "request") and header(record, PROBE_HEADER) is None


def _stateless(check: Checker) -> Callable[[], Checker]:
    return lambda: check


def _downlink_frame_size(record: WireRecord) -> str | None:
    if not _kind(record, "ws", "down") or record.get("opcode") not in ("text", "binary"):
        return None
    size = record.get("size")
    if isinstance(size, int) and size >= DOWNLINK_MAX_FRAME_BYTES:
        return f"a {size}-byte {record.get('type') or record.get('opcode')} message went down"
    return None


def _not_modified_headers(record: WireRecord) -> str | None:
    if not _kind(record, "response") or record.get("status") != 304:
        return None
    missing = [n for n in ("etag", "cache-control") if header(record, n) is None]
    if missing:
        return f"304 for {record.get('path')} without {' and '.join(missing)}"
    return None


def _upgrade_bearer(record: WireRecord) -> str | None:
    if not _device_request(record) or (header(record, "upgrade") or "").lower() != "websocket":
        return None
    auth = header(record, "authorization")
    if auth is None or not _BEARER.fullmatch(auth.strip()):
        shown = "no Authorization header" if auth is None else f"Authorization {auth[:20]!r}"
        return f"WebSocket upgrade to {record.get('path')} with {shown}"
    return None


def _no_5xx(record: WireRecord) -> str | None:
    status = record.get("status")
    if _kind(record, "response") and isinstance(status, int) and status >= 500:
        return f"{record.get('method')} {record.get('path')} answered {status}"
    return None


def _no_error_frame(record: WireRecord) -> str | None:
    if _kind(record, "ws", "down") and record.get("type") == "error":
        fields = record.get("fields")
        code = fields.get("error_code") if isinstance(fields, Mapping) else None
        return f"the server sent an error frame ({code})"
    return None


def _query_encoded(record: WireRecord) -> str | None:
    if _kind(record, "error", "up"):  # a raw space leaves a request line HTTP cannot parse
        line = _REQUEST_LINE.fullmatch(str(record.get("preview", "")).split("\r", 1)[0])
        if line is not None and "?" in line.group(1):
            return f"query not percent-encoded (the request line broke): {line.group(1)!r}"
        return None
    if not _device_request(record):
        return None
    query = record.get("query")
    if isinstance(query, str) and query and not _ENCODED_QUERY.fullmatch(query):
        return f"query not percent-encoded: {record.get('target')!r}"
    return None


def _wire_decodes(record: WireRecord) -> str | None:
    if _kind(record, "error"):
        side = "device" if record.get("dir") == "up" else "server"
        return f"the {side} sent bytes that are not HTTP/1.1 or WebSocket: {record.get('error')}"
    return None


def _json_frames(record: WireRecord) -> str | None:
    if not _kind(record, "ws") or record.get("opcode") not in ("text", "binary"):
        return None
    if record.get(PROBE_MEMBER) is not None:  # the harness's own frame (ws_send), on purpose
        return None
    side = "device" if record.get("dir") == "up" else "server"
    if record.get("opcode") == "binary":
        return f"the {side} sent a binary frame (SPEC §6.3, §6.4: JSON text only)"
    if "json_error" in record:
        return f"the {side} sent a text frame that is not JSON: {record.get('json_error')}"
    known = DEVICE_MESSAGE_TYPES if side == "device" else SERVER_MESSAGE_TYPES
    kind = record.get("type")
    if kind not in known:
        return f"the {side} sent a frame of unknown type {kind!r}"
    return None


def _nonce_unique() -> Checker:
    seen: set[tuple[str, str]] = set()

    def check(record: WireRecord) -> str | None:
        if not _device_request(record) or record.get("path") != CLAIM_PATH:
            return None
        body = record.get("body")
        claim = body.get("json") if isinstance(body, Mapping) else None
        if not isinstance(claim, Mapping) or not isinstance(claim.get("nonce"), str):
            return None
        key = (str(claim.get("device_id", "")).lower(), str(claim["nonce"]).lower())
        if key in seen:
            return f"{key[0]} sent claim nonce {key[1]} again"
        seen.add(key)
        return None

    return check


INVARIANTS: Final[tuple[Invariant, ...]] = (
    Invariant(
        "downlink_frame_size",
        "§7.3",
        f"every server -> device WebSocket message is under {DOWNLINK_MAX_FRAME_BYTES} bytes",
        _stateless(_downlink_frame_size),
    ),
    Invariant(
        "not_modified_headers",
        "§4.2",
        "every 304 carries ETag and Cache-Control",
        _stateless(_not_modified_headers),
    ),
    Invariant(
        "upgrade_bearer",
        "§6.1",
        "every WebSocket upgrade carries `Authorization: Bearer <token>`",
        _stateless(_upgrade_bearer),
    ),
    Invariant("no_5xx", "§1.2", "no response has a 5xx status", _stateless(_no_5xx)),
    Invariant(
        "no_error_frame",
        "§6.3",
        "the server sends no `error` frame unless the scenario expects one",
        _stateless(_no_error_frame),
    ),
    Invariant(
        "query_encoded",
        "§6.1",
        "request query values are percent-encoded (RFC 3986)",
        _stateless(_query_encoded),
    ),
    Invariant(
        "wire_decodes",
        "§1.1",
        "every byte either side sends is HTTP/1.1 or WebSocket (RFC 9112, RFC 6455)",
        _stateless(_wire_decodes),
    ),
    Invariant(
        "json_frames",
        "§6.3, §6.4",
        "every WebSocket message is a JSON text frame of a type its sender may send",
        _stateless(_json_frames),
    ),
    Invariant(
        "nonce_unique",
        "§2.3",
        "the device never sends the same claim nonce twice",
        _nonce_unique,
    ),
)
INVARIANT_IDS: Final = tuple(inv.id for inv in INVARIANTS)


def get_invariant(invariant_id: str) -> Invariant:
    for inv in INVARIANTS:
        if inv.id == invariant_id:
            return inv
    raise KeyError(invariant_id)
