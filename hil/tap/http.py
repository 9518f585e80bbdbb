"""HTTP/1.1 as the tap sees it: two h11 state machines kept in step, one per direction.

The relay forwards bytes first and shows them to `HttpObserver` afterwards, so nothing
here can change what the device or the server receive. `h11.Connection(SERVER)` parses
what the device sends; `h11.Connection(CLIENT)` parses what the server sends. Each side's
events are also *sent* into the other machine (the output is thrown away): h11 then knows
what the server's parser needs to know (a HEAD has no response body, an `Upgrade` request
may be answered by 101) and when a keep-alive cycle ends on both sides, so pipelined
requests, chunked and close-delimited bodies, 206 partial content and `Expect: 100-
continue` are all framed by h11, not by hand. Bodies are never kept whole
(hil.tap.summary).

A 101 answer to an upgrade ends HTTP on the connection: `upgrade` is then set and holds
the bytes each side sent after the handshake, for the WebSocket decoder. Bytes h11
refuses (a malformed request or response) make the observer `broken`: an `error` record
says why, and the relay keeps forwarding without decoding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import h11

from hil.tap.recorder import Recorder
from hil.tap.records import DOWN, ERROR, REQUEST, RESPONSE, UP
from hil.tap.summary import BodySummary

PREVIEW_BYTES: Final = 120
SWITCHING_PROTOCOLS: Final = 101


@dataclass(frozen=True)
class Upgrade:
    """The handshake ended with 101: what follows is another protocol (WebSocket)."""

    up_rest: bytes  # what the device sent after its upgrade request
    down_rest: bytes  # what the server sent after its 101
    request_headers: list[list[str]]
    response_headers: list[list[str]]


def header_pairs(headers: Iterable[tuple[bytes, bytes]]) -> list[list[str]]:
    """`[[name, value], ...]` as sent: original case and order, repeats kept."""
    return [[name.decode("latin-1"), value.decode("latin-1")] for name, value in headers]


def header_value(pairs: list[list[str]], name: str) -> str | None:
    """The value of header `name` (case-insensitive); repeats joined with ', '."""
    values = [v for n, v in pairs if n.lower() == name.lower()]
    return ", ".join(values) if values else None


def query_params(query: str) -> dict[str, object]:
    """Decoded query parameters; a repeated name maps to the list of its values."""
    params: dict[str, object] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in params:
            params[name] = value
        else:
            old = params[name]
            params[name] = [*old, value] if isinstance(old, list) else [old, value]
    return params


@dataclass
class _Message:
    """A request or response being received: its head, and its body so far."""

    t: float
    head: dict[str, object]
    headers: list[list[str]]
    body: BodySummary = field(default_factory=BodySummary)

    def __post_init__(self) -> None:
        self.head["headers"] = self.headers
        self.body.content_type = header_value(self.headers, "content-type") or ""


def _request_head(event: h11.Request) -> dict[str, object]:
    target = event.target.decode("latin-1")
    parts = urlsplit(target)
    return {
        "method": event.method.decode("latin-1"),
        "target": target,
        "path": parts.path,
        "query": parts.query,
        "query_params": query_params(parts.query),
        "http_version": event.http_version.decode("latin-1"),
    }


def _response_head(event: h11.Response | h11.InformationalResponse) -> dict[str, object]:
    return {
        "status": event.status_code,
        "reason": event.reason.decode("latin-1"),
        "http_version": event.http_version.decode("latin-1"),
    }


def _as_sent_by_a_client(event: h11.Request) -> h11.Request:
    """The request as h11's client machine may send it: h11 clients only speak HTTP/1.1.

    An HTTP/1.0 request is mirrored as 1.1 with `Connection: close` (1.0's default) and a
    `Host` if it had none, which frames the response the same way (the output is unused).
    """
    if event.http_version == b"1.1":
        return event
    headers = [(n, v) for n, v in event.headers if n not in (b"connection", b"host")]
    host = next((v for n, v in event.headers if n == b"host"), b"unknown")
    return h11.Request(
        method=event.method,
        target=event.target,
        headers=[(b"host", host), *headers, (b"connection", b"close")],
    )


def _as_sent_by_a_server(
    event: h11.Response | h11.InformationalResponse,
) -> h11.Response | h11.InformationalResponse:
    """The response as h11's server machine may send it (HTTP/1.1; framing unchanged)."""
    if event.http_version == b"1.1":
        return event
    return type(event)(status_code=event.status_code, headers=event.headers, reason=event.reason)


class HttpObserver:
    """Decodes one connection's HTTP exchanges into `request` / `response` records."""

    def __init__(self, rec: Recorder) -> None:
        self._rec = rec
        self._up = h11.Connection(h11.SERVER)  # reads the device's requests
        self._down = h11.Connection(h11.CLIENT)  # reads the server's responses
        self._exchange = 0
        self._request: _Message | None = None  # being received
        self._asked: list[dict[str, object]] = []  # heads of requests awaiting an answer
        self._response: _Message | None = None
        self._request_end = 0.0
        self._last = {UP: b"", DOWN: b""}  # the latest bytes of each side, for error previews
        self.upgrade: Upgrade | None = None
        self.broken = False

    # -- feeding -------------------------------------------------------------------------
    def feed(self, direction: str, data: bytes) -> None:
        if self.broken or self.upgrade is not None:
            return
        machine = self._up if direction == UP else self._down
        self._last[direction] = data
        try:
            machine.receive_data(data)
        except h11.ProtocolError as exc:  # data after the peer's own close
            self._break(direction, exc)
            return
        self._drain()

    def eof(self, direction: str) -> None:
        """`direction`'s sender shut down its half (FIN): h11 may end a body on it.

        A server closing with requests unanswered is no decoding problem: the close
        record lists them (`unanswered`).
        """
        if direction == DOWN and self._response is None:
            return
        self.feed(direction, b"")

    def unanswered(self) -> list[str]:
        """`METHOD target` of each request that got no (complete) response head."""
        return [f"{head.get('method')} {head.get('target')}" for head in self._asked]

    def finish(self, how: str) -> None:
        """The connection is gone: a response still streaming is recorded as cut."""
        if self._response is not None and not self.broken:
            self._end_response(complete=False, error=f"connection ended ({how}) mid-body")

    # -- h11 events ----------------------------------------------------------------------
    def _drain(self) -> None:
        progress = True
        while progress and self.upgrade is None and not self.broken:
            progress = self._step(self._up, UP) | self._step(self._down, DOWN)

    def _step(self, machine: h11.Connection, direction: str) -> bool:
        """Handle one event of `machine`; False when it needs more data (or is paused)."""
        if self.broken or self.upgrade is not None:
            return False
        try:
            return self._handle(machine, direction)
        except h11.ProtocolError as exc:
            self._break(direction, exc)
            return False

    def _handle(self, machine: h11.Connection, direction: str) -> bool:
        event: Any = machine.next_event()
        if event is h11.NEED_DATA or event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
            return False
        other = self._down if direction == UP else self._up
        if isinstance(event, h11.Request):
            other.send(_as_sent_by_a_client(event))
            self._head(event)
        elif isinstance(event, h11.Response | h11.InformationalResponse):
            other.send(_as_sent_by_a_server(event))
            self._head(event)
        elif isinstance(event, h11.Data):
            other.send(h11.Data(data=event.data))
            message = self._request if direction == UP else self._response
            if message is not None:
                message.body.add(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            other.send(h11.EndOfMessage(headers=event.headers))
            self._ended(direction)
        return True

    def _head(self, event: h11.Request | h11.Response | h11.InformationalResponse) -> None:
        now = self._rec.now()
        if isinstance(event, h11.Request):
            self._exchange += 1
            head = _request_head(event)
            head["exchange"] = self._exchange
            self._request = _Message(now, head, header_pairs(event.headers.raw_items()))
            self._asked.append(head)  # a response may start before the request's body ends
            return
        head = _response_head(event)
        asked = self._asked[0] if self._asked else {}
        head.update({k: asked.get(k) for k in ("exchange", "method", "target", "path")})
        head["latency_s"] = round(now - self._request_end, 6) if asked else None
        message = _Message(now, head, header_pairs(event.headers.raw_items()))
        if isinstance(event, h11.InformationalResponse):
            self._rec.emit(RESPONSE, DOWN, {**head, "complete": True}, t=now)
            if event.status_code == SWITCHING_PROTOCOLS:
                self._switch(asked, message.headers)
            return
        self._response = message

    def _ended(self, direction: str) -> None:
        if direction == UP and self._request is not None:
            message, self._request = self._request, None
            self._request_end = self._rec.now()
            members = {**message.head, "body": message.body.to_json(), "t_end": self._request_end}
            self._rec.emit(REQUEST, UP, members, t=message.t)
        elif direction == DOWN:
            self._end_response(complete=True)
        if self._up.our_state is h11.DONE and self._up.their_state is h11.DONE:
            self._up.start_next_cycle()
            self._down.start_next_cycle()

    def _end_response(self, *, complete: bool, error: str | None = None) -> None:
        message, self._response = self._response, None
        if message is None:
            return
        if self._asked:
            self._asked.pop(0)
        members = {
            **message.head,
            "body": message.body.to_json(),
            "complete": complete,
            "t_end": round(self._rec.now(), 6),
        }
        if error is not None:
            members["error"] = error
        self._rec.emit(RESPONSE, DOWN, members, t=message.t)

    def _switch(self, asked: dict[str, object], response_headers: list[list[str]]) -> None:
        request_headers = asked.get("headers")
        self.upgrade = Upgrade(
            up_rest=bytes(self._up.trailing_data[0]),
            down_rest=bytes(self._down.trailing_data[0]),
            request_headers=request_headers if isinstance(request_headers, list) else [],
            response_headers=response_headers,
        )

    def _break(self, direction: str, exc: h11.ProtocolError) -> None:
        self.broken = True
        if direction == DOWN and self._response is not None:
            self._end_response(complete=False, error=f"h11: {exc}")
            return
        who = "device" if direction == UP else "server"
        members = {
            "error": f"HTTP from the {who}: {exc}",
            "preview": self._last[direction][:PREVIEW_BYTES].decode("latin-1"),
        }
        self._rec.emit(ERROR, direction, members)
