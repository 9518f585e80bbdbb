"""What the host reports to the device core: console lines, network and audio outcomes.

Owns the input half of the core's vocabulary (see `emulator.core.effects` for the other
half). Every input is handled with the uptime at which it happened (`now_ms`); inputs
carrying a correlation id the core no longer waits for are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConsoleLine:
    """One line typed on the serial console (SPEC §9)."""

    text: str


@dataclass(frozen=True)
class TimerFired:
    name: str
    at_ms: int


@dataclass(frozen=True)
class WifiUp:
    ip: str


@dataclass(frozen=True)
class WifiDown:
    pass


@dataclass(frozen=True)
class TimeSynced:
    epoch: int


@dataclass(frozen=True)
class HttpResponse:
    """A complete response; `headers` has lower-case names."""

    req_id: int
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class HttpFailed:
    """Transport failure (connect, timeout, reset) before or during the response."""

    req_id: int
    reason: str


@dataclass(frozen=True)
class HttpStreamStart:
    req_id: int
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpStreamData:
    req_id: int
    data: bytes


@dataclass(frozen=True)
class HttpStreamEnd:
    req_id: int


@dataclass(frozen=True)
class WsOpened:
    """The upgrade succeeded (`ws.open` waits for `connection_established`, SPEC §6.1)."""

    conn_id: int


@dataclass(frozen=True)
class WsRefused:
    """The upgrade was answered with a status other than 101 (SPEC §6.1: 403 + body)."""

    conn_id: int
    status: int
    body: bytes = b""


@dataclass(frozen=True)
class WsText:
    conn_id: int
    text: str


@dataclass(frozen=True)
class WsBinary:
    conn_id: int
    size: int


@dataclass(frozen=True)
class WsClosed:
    """The connection ended; `code` 1006 when it dropped without a close frame."""

    conn_id: int
    code: int
    reason: str


@dataclass(frozen=True)
class CaptureStarted:
    capture_id: int


@dataclass(frozen=True)
class CaptureFailed:
    """The source cannot be opened; `reason` is a SPEC §9.3 reason (`bad_value`, ...)."""

    capture_id: int
    reason: str
    message: str


@dataclass(frozen=True)
class CaptureChunk:
    capture_id: int
    pcm: bytes


@dataclass(frozen=True)
class CaptureEnded:
    capture_id: int


@dataclass(frozen=True)
class PlaybackDone:
    audio_session_id: str


@dataclass(frozen=True)
class SlotData:
    slot: str
    data: bytes


Input = (
    ConsoleLine
    | TimerFired
    | WifiUp
    | WifiDown
    | TimeSynced
    | HttpResponse
    | HttpFailed
    | HttpStreamStart
    | HttpStreamData
    | HttpStreamEnd
    | WsOpened
    | WsRefused
    | WsText
    | WsBinary
    | WsClosed
    | CaptureStarted
    | CaptureFailed
    | CaptureChunk
    | CaptureEnded
    | PlaybackDone
    | SlotData
)
HttpEvent = HttpResponse | HttpFailed | HttpStreamStart | HttpStreamData | HttpStreamEnd
