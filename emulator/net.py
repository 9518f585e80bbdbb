"""The emulated board's network drivers: HTTP (httpx) and WebSocket (websockets 12).

Owns carrying out the core's `HttpRequest` / `WsConnect` effects and reporting outcomes
as inputs. The WebSocket client behaves like the firmware's `esp_websocket_client` with
an 8 KiB receive buffer: a frame of 8192 bytes or more is refused with close 1009 (SPEC
§6.2, §7.3); a refused upgrade's body is read so the device learns the SPEC §6.1 reason;
a connection that drops without a close frame reports 1006. Nothing here raises into the
host: every failure becomes an input.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import httpcore
import httpx
import websockets
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatusCode, WebSocketException
from websockets.legacy.client import WebSocketClientProtocol

from emulator.core.effects import HttpRequest, WsClose, WsConnect, WsSend
from emulator.core.inputs import (
    HttpFailed,
    HttpResponse,
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
    Input,
    WsBinary,
    WsClosed,
    WsOpened,
    WsRefused,
    WsText,
)
from protocol.constants import DOWNLINK_MAX_FRAME_BYTES

Post = Callable[[Input], None]
RX_BUFFER_BYTES = DOWNLINK_MAX_FRAME_BYTES - 1  # frames must be < 8192 bytes (SPEC §7.3)
DOWNLOAD_CHUNK_BYTES = 4096  # what esp_https_ota reads per call
_REFUSAL_BODY_MAX = 8192
_UNREACHABLE = "network_unreachable"


class _Refused(InvalidStatusCode):
    """A non-101 answer to the upgrade, with its body (SPEC §6.1 reason)."""

    def __init__(self, status_code: int, headers: Headers, body: bytes) -> None:
        super().__init__(status_code, headers)
        self.body = body


class _DeviceProtocol(WebSocketClientProtocol):
    """Reads the body of a refused upgrade, which websockets 12 leaves unread."""

    async def read_http_response(self) -> tuple[int, Headers]:
        status, headers = await super().read_http_response()
        if status != 101:
            body = b""
            try:
                length = int(headers.get("Content-Length", "0"))
                if 0 < length <= _REFUSAL_BODY_MAX:
                    body = await asyncio.wait_for(self.reader.readexactly(length), 2.0)
            except (ValueError, OSError, asyncio.IncompleteReadError, TimeoutError):
                body = b""
            raise _Refused(status, headers, body)
        return status, headers


# What a broken link can raise: httpx's own errors, and httpcore's when the connection dies
# while a streamed body is closed (httpx does not map that path), or the OS's. A device's
# HTTP client reports every one of them as a failed request (the core then retries).
_TRANSPORT_ERRORS = (
    httpx.HTTPError,
    httpcore.ProtocolError,
    httpcore.NetworkError,
    httpcore.TimeoutException,
    OSError,
)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return "connect_failed"
    return type(exc).__name__.lower()


class HttpAdapter:
    """Runs each request as a task; `online` False (Wi-Fi down) fails them at once."""

    def __init__(
        self,
        *,
        post: Post,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        broken: bool = False,
    ) -> None:
        self._post = post
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)
        self._owns_transport = transport is None  # a caller's transport outlives boots
        self._broken = broken
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.online = True

    def request(self, effect: HttpRequest) -> None:
        task = asyncio.create_task(self._run(effect))
        self._tasks[effect.req_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(effect.req_id, None))

    def cancel(self, req_id: int) -> None:
        task = self._tasks.pop(req_id, None)
        if task is not None:
            task.cancel()

    async def _run(self, effect: HttpRequest) -> None:
        headers = dict(effect.headers)
        try:
            if self._broken or not self.online:
                await asyncio.sleep(0.01)  # a dead network still takes a moment to fail
                self._post(HttpFailed(effect.req_id, _UNREACHABLE))
                return
            if effect.stream:
                await self._stream(effect, headers)
                return
            response = await self._client.request(
                effect.method, effect.url, headers=headers, content=effect.body
            )
            lower = {k.lower(): v for k, v in response.headers.items()}
            self._post(HttpResponse(effect.req_id, response.status_code, lower, response.content))
        except _TRANSPORT_ERRORS as exc:
            self._post(HttpFailed(effect.req_id, _reason(exc)))

    async def _stream(self, effect: HttpRequest, headers: dict[str, str]) -> None:
        async with self._client.stream(
            effect.method, effect.url, headers=headers, content=effect.body
        ) as response:
            lower = {k.lower(): v for k, v in response.headers.items()}
            self._post(HttpStreamStart(effect.req_id, response.status_code, lower))
            async for chunk in response.aiter_raw(DOWNLOAD_CHUNK_BYTES):
                self._post(HttpStreamData(effect.req_id, chunk))
        self._post(HttpStreamEnd(effect.req_id))

    def abort_all(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        self._tasks.clear()

    async def aclose(self) -> None:
        self.abort_all()
        if self._owns_transport:
            await self._client.aclose()


@dataclass
class _Conn:
    outbox: asyncio.Queue[str | WsClose] = field(default_factory=asyncio.Queue)
    ws: WebSocketClientProtocol | None = None
    task: asyncio.Task[None] | None = None
    writer: asyncio.Task[None] | None = None


def _close_info(exc: ConnectionClosed | None, ws: WebSocketClientProtocol) -> tuple[int, str]:
    """Code and reason as the device reports them: received, else sent, else 1006."""
    rcvd = exc.rcvd if exc is not None else ws.close_rcvd
    sent = exc.sent if exc is not None else ws.close_sent
    if rcvd is not None:
        code, reason = rcvd.code, rcvd.reason
    elif sent is not None:
        code, reason = sent.code, ""
    else:
        return 1006, "connection_lost"
    if not reason and sent is not None and sent.code == code:
        reason = sent.reason  # e.g. our own 1009 for a frame over the receive buffer
    return code, reason


class WsAdapter:
    """One task per connection (reader) plus a writer task draining its outbox."""

    def __init__(self, *, post: Post, open_timeout_s: float, broken: bool = False) -> None:
        self._post = post
        self._open_timeout_s = open_timeout_s
        self._broken = broken
        self._conns: dict[int, _Conn] = {}
        self.online = True

    def connect(self, effect: WsConnect) -> None:
        conn = _Conn()
        self._conns[effect.conn_id] = conn
        conn.task = asyncio.create_task(self._run(effect, conn))

    def send(self, effect: WsSend) -> None:
        conn = self._conns.get(effect.conn_id)
        if conn is not None:
            conn.outbox.put_nowait(effect.text)

    def close(self, effect: WsClose) -> None:
        conn = self._conns.get(effect.conn_id)
        if conn is not None:
            conn.outbox.put_nowait(effect)

    async def _run(self, effect: WsConnect, conn: _Conn) -> None:
        conn_id = effect.conn_id
        try:
            if self._broken or not self.online:
                await asyncio.sleep(0.01)
                self._post(WsClosed(conn_id, 1006, _UNREACHABLE))
                return
            ws = await websockets.connect(
                effect.url,
                extra_headers=list(effect.headers),
                max_size=RX_BUFFER_BYTES,
                open_timeout=self._open_timeout_s,
                close_timeout=1.0,
                create_protocol=_DeviceProtocol,
            )
        except _Refused as exc:
            self._post(WsRefused(conn_id, exc.status_code, exc.body))
            return
        except InvalidStatusCode as exc:
            self._post(WsRefused(conn_id, exc.status_code, b""))
            return
        except (OSError, TimeoutError, WebSocketException) as exc:
            self._post(WsClosed(conn_id, 1006, f"connect_failed: {type(exc).__name__}"))
            return
        conn.ws = ws
        self._post(WsOpened(conn_id))
        conn.writer = asyncio.create_task(self._write(ws, conn))
        closed: ConnectionClosed | None = None
        try:
            async for message in ws:
                if isinstance(message, str):
                    self._post(WsText(conn_id, message))
                else:
                    self._post(WsBinary(conn_id, len(message)))
        except ConnectionClosed as exc:
            closed = exc
        code, reason = _close_info(closed, ws)
        self._post(WsClosed(conn_id, code, reason))

    async def _write(self, ws: WebSocketClientProtocol, conn: _Conn) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                item = await conn.outbox.get()
                if isinstance(item, WsClose):
                    await ws.close(item.code, item.reason)
                    return
                await ws.send(item)

    def close_all(self, code: int, reason: str) -> None:
        """Queue a close frame on every connection (the board is switched off)."""
        for conn_id, conn in self._conns.items():
            conn.outbox.put_nowait(WsClose(conn_id, code, reason))

    async def flush(self, timeout_s: float) -> None:
        """Let queued frames and close frames go out (a software reset, not a power cut)."""
        writers = [c.writer for c in self._conns.values() if c.writer is not None]
        if writers:
            await asyncio.wait(writers, timeout=timeout_s)

    def abort_all(self) -> None:
        """Power cut / link loss: drop every TCP connection without a close frame."""
        self.abort(list(self._conns))

    def abort(self, conn_ids: list[int]) -> None:
        for conn_id in conn_ids:
            conn = self._conns.pop(conn_id, None)
            if conn is None:
                continue
            if conn.ws is not None and conn.ws.transport is not None:
                conn.ws.transport.abort()
            for task in (conn.task, conn.writer):
                if task is not None:
                    task.cancel()

    def connection_ids(self) -> list[int]:
        return list(self._conns)
