"""What the host reports to the device core: console lines, network and audio outcomes.

The input half of the core's vocabulary is generated from the device model into
`protocol.device_io` (one dataclass per `inputs:` kind of protocol/device_model.yaml);
this module re-exports it for the core and its host, plus the HTTP subset the request
callbacks receive. Every input is handled with the uptime at which it happened
(`now_ms`); inputs carrying a correlation id the core no longer waits for are ignored.
"""

from __future__ import annotations

from protocol.device_io import (
    CaptureChunk,
    CaptureEnded,
    CaptureFailed,
    CaptureStarted,
    ConsoleLine,
    HttpFailed,
    HttpResponse,
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
    Input,
    PlaybackDone,
    SlotData,
    TimerFired,
    TimeSynced,
    WifiDown,
    WifiUp,
    WsBinary,
    WsClosed,
    WsOpened,
    WsRefused,
    WsText,
)

HttpEvent = HttpResponse | HttpFailed | HttpStreamStart | HttpStreamData | HttpStreamEnd

__all__ = [
    "CaptureChunk",
    "CaptureEnded",
    "CaptureFailed",
    "CaptureStarted",
    "ConsoleLine",
    "HttpEvent",
    "HttpFailed",
    "HttpResponse",
    "HttpStreamData",
    "HttpStreamEnd",
    "HttpStreamStart",
    "Input",
    "PlaybackDone",
    "SlotData",
    "TimeSynced",
    "TimerFired",
    "WifiDown",
    "WifiUp",
    "WsBinary",
    "WsClosed",
    "WsOpened",
    "WsRefused",
    "WsText",
]
