"""Server faults: the closed vocabulary of what a harness may make the server do wrong (SPEC §11.4).

A fault is a deliberate misbehaviour of the reference server on request (the admin API's
`POST /api/v1/harness/faults`, a scenario's `server_fault: {kind: ...}`), so a scenario can
check that the device copes (garbage on the chat, a dropped connection, an HTTP error, a cut
download) or that the harness catches what the fault broke (a reply cut short, the first
uplink chunk lost). This module is the one definition of the kinds: the server's
`FaultPlan`, the scenario schema (`hil.steps.server_side`), the admin API's refusal and the
SPEC §11.4 table are generated from or checked against `FAULTS`.

It lives in `protocol` because both the server and `hil.steps` (which must not import the
server) need the names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Fault:
    """One kind of fault: its name, where it acts and what it does (one line)."""

    name: str
    on: str  # "chat" (the open chat connections) or "http"
    keys: frozenset[str]  # members it takes besides `kind` and `count`
    description: str


CHAT: Final = "chat"
HTTP: Final = "http"

INVALID_JSON: Final = Fault(
    "invalid_json", CHAT, frozenset(), "a text frame that is not JSON (a cut `text_response`)"
)
OVERSIZE_FRAME: Final = Fault(
    "oversize_frame", CHAT, frozenset(), "a `text_response` frame of over 20 KiB (§7.3 says < 8192)"
)
UNKNOWN_TYPE: Final = Fault(
    "unknown_type", CHAT, frozenset(), "a message of a `type` no device knows (`surprise`)"
)
BINARY_FRAME: Final = Fault("binary_frame", CHAT, frozenset(), "a binary frame (§6.4: text only)")
DROP_CONNECTION: Final = Fault(
    "drop_connection", CHAT, frozenset(), "the TCP connection is aborted without a close frame"
)
CUT_REPLY: Final = Fault(
    "cut_reply",
    CHAT,
    frozenset(),
    "the next reply's audio stops after half its `audio_response` frames, the last one sent"
    " with `is_final`; `text_response` and frame 0's `text` are unchanged",
)
DROP_FIRST_CHUNK: Final = Fault(
    "drop_first_chunk",
    CHAT,
    frozenset(),
    "the next utterance's first `audio_chunk` with audio is dropped silently before the"
    " recogniser sees it (like defect 12's lost fallback buffer)",
)
HTTP_STATUS: Final = Fault(
    "http_status",
    HTTP,
    frozenset({"path", "status"}),
    "the next requests below `path` get `status` (with `Retry-After: 1` on 429/503)",
)
CUT_DOWNLOAD: Final = Fault(
    "cut_download",
    HTTP,
    frozenset({"after_bytes"}),
    "the next image downloads stop after `after_bytes`",
)

# In SPEC §11.4 table order: the chat faults, then the HTTP ones.
FAULTS: Final[tuple[Fault, ...]] = (
    INVALID_JSON,
    OVERSIZE_FRAME,
    UNKNOWN_TYPE,
    BINARY_FRAME,
    DROP_CONNECTION,
    CUT_REPLY,
    DROP_FIRST_CHUNK,
    HTTP_STATUS,
    CUT_DOWNLOAD,
)
FAULT_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FAULTS)
CHAT_FAULT_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FAULTS if f.on == CHAT)
# Chat faults that change the next reply/utterance instead of sending something at once.
ARMED_CHAT_FAULTS: Final = frozenset({CUT_REPLY.name, DROP_FIRST_CHUNK.name})
