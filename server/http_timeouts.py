"""HTTP/1.1 connection deadlines of SPEC §1.4, enforced inside uvicorn's h11 protocol.

uvicorn on its own closes a kept-alive connection that stays idle after a response
(``timeout_keep_alive``) and nothing else: a client that opens a connection and sends nothing,
or half a request head, or a head and half a body, holds a socket and a protocol object for
ever. ``TimedH11Protocol`` arms one loop timer per phase of a request, read from h11's state of
the client (``their_state``) after every event that can change it:

- ``head``: from the connection's opening, or the end of the previous response, until h11 has
  the whole request head (``IDLE``), ``header_read_s``;
- ``body``: from the complete head until the complete body (``SEND_BODY``), ``body_read_s``;
- none while the application handles a complete request, and none once the connection is
  upgraded to a WebSocket (the chat's own idle limit of SPEC §6.6 takes over).

The idle keep-alive deadline stays uvicorn's timer, with ``idle_keep_alive_s``. When a deadline
passes and the client has sent part of a request that no response has answered yet, it gets
408 ``request_timeout`` with the SPEC §1.2 body before the close; a connection that has sent
nothing of its next request is closed without a response, as uvicorn's keep-alive does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, ClassVar, Literal

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from protocol.error_body import ErrorBody
from server.settings import ConnectionTimeouts

Phase = Literal["head", "body"]
TIMEOUT_CODE = "request_timeout"
CORRELATION_HEADER = b"x-correlation-id"  # the header of SPEC §1.2, as server.app sends it

_log = logging.getLogger("teddy.server.http")  # beside the app's "teddy.server" loggers

_WHAT = {
    "head": (
        "request head not complete within {s:g} s of the connection's opening or the previous"
        " response; send the whole head at once (SPEC §1.4)"
    ),
    "body": (
        "request body not complete within {s:g} s of its head; send the body right after the"
        " head (SPEC §1.4)"
    ),
}


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the header-read and body-read deadlines of SPEC §1.4."""

    timeouts: ClassVar[ConnectionTimeouts] = ConnectionTimeouts()

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # uvicorn annotates this int, but only hands it to loop.call_later, which takes float
        # seconds; sub-second values keep the tests fast.
        self.timeout_keep_alive = self.timeouts.idle_keep_alive_s  # type: ignore[assignment]
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: Phase | None = None
        self._released = False  # upgraded to a WebSocket or closed: no deadline of ours

    # Every place h11's view of the client can change: re-read the phase afterwards.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._track()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        # From here the connection belongs to the WebSocket protocol (SPEC §6.6 limits).
        self._released = True
        self._cancel()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._released = True  # nothing may re-arm a timer on a closed connection
        self._cancel()
        super().connection_lost(exc)

    def _current_phase(self) -> Phase | None:
        if self._released or self.transport.is_closing():
            return None
        state = self.conn.their_state
        if state is h11.IDLE:
            return "head"
        if state is h11.SEND_BODY:
            return "body"
        return None

    def _track(self) -> None:
        phase = self._current_phase()
        if phase == self._phase:
            return  # a deadline runs from the start of its phase, not from the last byte
        self._cancel()
        self._phase = phase
        if phase is not None:
            seconds = self.timeouts.header_read_s if phase == "head" else self.timeouts.body_read_s
            self._deadline = self.loop.call_later(seconds, self._expired, phase, seconds)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._phase = None

    def _expired(self, phase: Phase, seconds: float) -> None:
        self._deadline = None
        self._phase = None
        if self.transport.is_closing():
            return
        message = _WHAT[phase].format(s=seconds)
        if self._owes_answer(phase):
            if self.cycle is not None and phase == "body":
                # The application waits in receive(): tell it the client is gone, so nothing
                # it sends follows the 408 on the wire.
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.transport.write(self._timeout_response(message))
        _log.info("connection from %s closed: %s", self.client, message)
        self.transport.close()

    def _owes_answer(self, phase: Phase) -> bool:
        """Whether the client sent part of a request that no response has started to answer."""
        if phase == "head":
            partial, _closed = self.conn.trailing_data
            return bool(partial)
        return self.cycle is None or not self.cycle.response_started

    def _timeout_response(self, message: str) -> bytes:
        correlation_id = str(uuid.uuid4())
        error = ErrorBody(TIMEOUT_CODE, message, correlation_id).to_json()
        body = json.dumps(error, separators=(",", ":")).encode()
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            (CORRELATION_HEADER, correlation_id.encode()),
        ]
        head = b"HTTP/1.1 408 Request Timeout\r\n" + b"".join(
            name + b": " + value + b"\r\n" for name, value in headers
        )
        return head + b"\r\n" + body


def timed_h11_protocol(timeouts: ConnectionTimeouts) -> type[TimedH11Protocol]:
    """The protocol class to hand uvicorn's ``http=``, bound to these deadlines."""
    bound = timeouts

    class BoundTimedH11Protocol(TimedH11Protocol):
        timeouts: ClassVar[ConnectionTimeouts] = bound

    return BoundTimedH11Protocol
