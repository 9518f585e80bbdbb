"""One tapped TCP connection: the device's socket, the server's socket, bytes between them.

Forwarding comes first: `data_received` writes the bytes to the other socket, unchanged
and in the same call; decoding them (the `Conversation`) is a callback queued behind it,
so when chunks of many connections arrive at once, all are forwarded before any is
decoded (asyncio runs the I/O callbacks of one poll before callbacks they schedule).
Both sockets are asyncio Protocols (no stream buffers in between), and each side's write
buffer filling up pauses reading on the other side, so a firmware image streams through
in pieces with bounded memory.

The end of a connection is passed on as it happened: a FIN (`eof_received`) becomes a
FIN on the other socket, the other direction staying open (TCP half-close); a reset or a
socket error becomes a reset (SO_LINGER 0, then abort), so a device that loses its link
and a server that drops a download look the same through the tap as without it. When
the server cannot be reached the device's connection is reset (where the server's port
would have refused it).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from typing import Final

from hil.tap.conversation import Conversation
from hil.tap.inject import Injection
from hil.tap.recorder import Recorder
from hil.tap.records import (
    CLOSE,
    CONNECT,
    DOWN,
    EOF,
    PROBE_HEADER,
    PROBE_MEMBER,
    RESET,
    UP,
    UPSTREAM_FAILED,
    WS,
)
from hil.tap.websocket import sent_record

PENDING_LIMIT: Final = 1 << 20  # device bytes held while the server connection opens


def reset(transport: asyncio.Transport | None) -> None:
    """Close with a TCP reset instead of a FIN (SO_LINGER with a zero timeout)."""
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Side(asyncio.Protocol):
    """One socket of a tapped connection; `direction` is where its incoming bytes go."""

    def __init__(self, conn: TappedConnection, direction: str) -> None:
        self.conn = conn
        self.direction = direction  # UP for the device's socket, DOWN for the server's
        self.transport: asyncio.Transport | None = None
        self.got_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.direction == UP:
            self.conn.accepted()

    def data_received(self, data: bytes) -> None:
        self.conn.received(self, data)

    def eof_received(self) -> bool:
        self.conn.eof(self)
        return True  # keep our sending half open: the other direction may still flow

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.lost(self, exc)

    def pause_writing(self) -> None:
        self.conn.other(self).pause_reading()

    def resume_writing(self) -> None:
        self.conn.other(self).resume_reading()

    def pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def writable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()


class TappedConnection:
    """The device's accepted socket, paired with a socket to the upstream server."""

    def __init__(
        self, rec: Recorder, *, upstream: tuple[str, int], on_failure: Callable[[str], None]
    ) -> None:
        self.rec = rec
        self._on_failure = on_failure
        self.upstream = upstream
        self.device = _Side(self, UP)
        self.server = _Side(self, DOWN)
        self.conversation = Conversation(rec)
        self.bytes = {UP: 0, DOWN: 0}
        self._pending: list[bytes] = []
        self._undecoded: list[tuple[str, bytes]] = []
        self._pending_eof = False
        self._injections: list[Injection] = []  # frames of the harness's own (hil.tap.inject)
        self._connected = False
        self._ended: str | None = None
        self._first_eof: str | None = None  # who shut down first: the close record's `dir`
        self._began = rec.now()
        self.closed = asyncio.get_running_loop().create_future()

    def other(self, side: _Side) -> _Side:
        return self.server if side is self.device else self.device

    def accepted(self) -> None:
        """The device's socket is open: record it and connect to the server."""
        transport = self.device.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        host, port = self.upstream
        self.rec.emit(CONNECT, UP, {"peer": where, "upstream": f"{host}:{port}"}, t=self._began)
        task = asyncio.get_running_loop().create_task(self.open_upstream())
        task.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._on_failure(f"opening an upstream connection failed: {task.exception()!r}")
            reset(self.device.transport)

    async def open_upstream(self) -> None:
        """Connect to the server; device bytes that arrived meanwhile follow at once."""
        host, port = self.upstream
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: self.server, host, port)
        except OSError as exc:
            self._end(UP, UPSTREAM_FAILED, error=f"{type(exc).__name__}: {exc}")
            reset(self.device.transport)
            return
        self._connected = True
        assert self.server.transport is not None
        for data in self._pending:
            self.server.transport.write(data)
        self._pending.clear()
        self.device.resume_reading()
        if self._pending_eof:
            self._write_eof(self.server)

    def received(self, side: _Side, data: bytes) -> None:
        self.bytes[side.direction] += len(data)
        peer = self.other(side)
        if peer.writable():
            assert peer.transport is not None
            peer.transport.write(data)
        elif side is self.device and not self._connected and self._ended is None:
            self._pending.append(data)
            if sum(map(len, self._pending)) > PENDING_LIMIT:
                side.pause_reading()
        if not self._undecoded:
            asyncio.get_running_loop().call_soon(self.decode)
        self._undecoded.append((side.direction, data))
        if self._injections and side is self.device:
            self.decode()  # where the device's messages end, now: the next frame may wait
            self._send_injections()

    def websocket_open(self) -> bool:
        """A WebSocket of the device (not a probe's upgrade) is open on this connection."""
        self.decode()
        ws = self.conversation.websocket
        probe = any(
            n.lower() == PROBE_HEADER for n, _ in self.conversation.upgrade_request_headers()
        )
        return ws is not None and not probe and self._ended is None and self.server.writable()

    def inject(self, injection: Injection) -> None:
        """Send `injection` to the server at the device's next message boundary."""
        self.decode()
        self._injections.append(injection)
        self._send_injections()

    def _send_injections(self) -> None:
        ws = self.conversation.websocket
        why = "no WebSocket on it" if ws is None else ws.up_between_messages()
        if why is not None or not self.server.writable():
            for injection in self._injections:
                injection.waiting_for = why or "the server's socket to be writable"
            return
        assert self.server.transport is not None
        for injection in self._injections:
            if injection.sent.done():  # failed meanwhile: its step gave up on it
                continue
            frame = injection.frame
            self.server.transport.write(frame)
            self.bytes[UP] += len(frame)
            members = sent_record(
                injection.opcode, injection.payload, wire_bytes=len(frame), t=self.rec.now()
            )
            self.rec.emit(WS, UP, {**members, PROBE_MEMBER: injection.probe_id})
            if not injection.sent.done():
                injection.sent.set_result(self.rec.conn)
        self._injections.clear()

    def decode(self) -> None:
        """Show what was forwarded to the decoders (also before an end is handled)."""
        queued, self._undecoded = self._undecoded, []
        for direction, data in queued:
            self.conversation.feed(direction, data)

    def eof(self, side: _Side) -> None:
        side.got_eof = True
        self._first_eof = self._first_eof or side.direction
        self.decode()
        self.conversation.eof(side.direction)
        peer = self.other(side)
        if side is self.device and not self._connected:
            self._pending_eof = True
        else:
            self._write_eof(peer)
        if self.device.got_eof and self.server.got_eof:
            self._end(self._first_eof, EOF)
            for end in (self.device, self.server):
                if end.transport is not None:
                    end.transport.close()

    def _write_eof(self, side: _Side) -> None:
        if side.writable():
            assert side.transport is not None
            if side.transport.can_write_eof():
                side.transport.write_eof()
            else:
                side.transport.close()

    def lost(self, side: _Side, exc: Exception | None) -> None:
        peer = self.other(side)
        if exc is not None:
            self._end(side.direction, RESET, error=f"{type(exc).__name__}: {exc}")
            reset(peer.transport)
        else:
            how = EOF if side.got_eof else RESET
            self._end(self._first_eof or side.direction, how)
            if peer.transport is not None and not peer.transport.is_closing():
                if side.got_eof:
                    peer.transport.close()
                else:
                    reset(peer.transport)
        if not (self.device.writable() or self.server.writable() or self.closed.done()):
            self.closed.set_result(None)

    def abort(self, how: str) -> None:
        """End the connection now (the tap stops): both sockets are reset."""
        self._end(UP, how)
        reset(self.device.transport)
        reset(self.server.transport)
        if not self.closed.done():
            self.closed.set_result(None)

    def _end(self, direction: str, how: str, *, error: str | None = None) -> None:
        if self._ended is not None:
            return
        self._ended = how
        for injection in self._injections:
            injection.fail(f"the connection ended ({how}) while {injection.waiting_for}")
        self._injections.clear()
        self.decode()
        self.conversation.finish(direction, how)
        members: dict[str, object] = {
            "how": how,
            "bytes_up": self.bytes[UP],
            "bytes_down": self.bytes[DOWN],
            "duration_s": round(self.rec.now() - self._began, 6),
        }
        if error is not None:
            members["error"] = error
        unanswered = self.conversation.unanswered()
        if unanswered:
            members["unanswered"] = unanswered
        self.rec.emit(CLOSE, direction, members)
