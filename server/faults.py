"""Fault injection into the reference server, for scenarios that test device robustness.

A scenario says ``server_fault: {kind: invalid_json}`` and the device must answer with an
``error``/``ws.close`` event and recover (SPEC §6.3: garbage on the wire). The kinds are
the vocabulary of ``protocol.server_faults`` (SPEC §11.4). Chat faults are delivered to
every open chat connection at once (through each connection's event loop) or, when none
is open, to the next one that opens. Most are sent at once; ``cut_reply`` and
``drop_first_chunk`` arm the connection instead (``ChatSession.arm``), and fire on its next
reply or utterance. HTTP faults apply to the next ``count`` matching requests.

A cut download (``cut_download``) is a deliberate fault, not a server error. The route
answers with the whole image's ``Content-Length`` and part of its bytes and marks the request
(:data:`CUT_MARK`); :class:`CutDownloads`, a pure ASGI middleware outside every other, sends
those bytes as an unfinished body and raises :class:`DownloadCut`, on which the ASGI server
drops the connection. The app logs it as one info line and the ASGI server's own "Exception
in ASGI application" traceback for it is filtered out (:data:`QUIET_CUTS`), so a scenario's
server log shows no error (issue 13).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from protocol.server_faults import CHAT_FAULT_NAMES, FAULT_NAMES
from server.errors import ServerError

CHAT_FAULTS: Final = CHAT_FAULT_NAMES  # the vocabulary: protocol.server_faults
OVERSIZE_FRAME_BYTES = 20 * 1024

ChatFaultHandler = Callable[[str], None]


class DownloadCut(Exception):  # noqa: N818 - an injected fault, not a bug
    """Raised mid-body by a cut download so the ASGI server drops the connection."""


def is_download_cut(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a cut download, bare or in a task group's exception group."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_download_cut(inner) for inner in exc.exceptions)
    return isinstance(exc, DownloadCut)


CUT_MARK: Final = "cut_download"  # request.state flag set by the route that cuts


class CutDownloads:
    """Pure ASGI middleware: a marked response's body is sent unfinished, then cut."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def cutting(message: Message) -> None:
            cut = scope.get("state", {}).get(CUT_MARK, False)
            if cut and message["type"] == "http.response.body":
                await send({**message, "more_body": True})  # never the end the head declared
                raise DownloadCut("download cut by fault injection")
            await send(message)

        await self.app(scope, receive, cutting)


class _QuietCuts(logging.Filter):
    """Drops log records whose exception is a cut download (logged at info elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and is_download_cut(record.exc_info[1]))


QUIET_CUTS: Final = _QuietCuts()
# The logger uvicorn reports an application's exception on (it keeps a filter added here).
ASGI_ERROR_LOGGER: Final = "uvicorn.error"


class UnknownFaultError(ServerError):
    def __init__(self, kind: str) -> None:
        valid = ", ".join(FAULT_NAMES)
        super().__init__(f"unknown server fault {kind!r}; valid: {valid}")


@dataclass
class _HttpFault:
    path_prefix: str
    status: int
    remaining: int


@dataclass
class _Listener:
    loop: asyncio.AbstractEventLoop
    handler: ChatFaultHandler


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending_chat: list[str] = []
        self._listeners: list[_Listener] = []
        self._http: list[_HttpFault] = []
        self._cuts: list[list[int]] = []  # [after_bytes, remaining]

    # -- chat ----------------------------------------------------------------------------
    def inject(self, kind: str, *, count: int = 1) -> None:
        if kind not in CHAT_FAULTS:
            raise UnknownFaultError(kind)
        with self._lock:
            listeners = list(self._listeners)
            if not listeners:
                self._pending_chat.extend([kind] * count)
                return
        for listener in listeners:
            for _ in range(count):
                listener.loop.call_soon_threadsafe(listener.handler, kind)

    def listen(self, handler: ChatFaultHandler) -> Callable[[], None]:
        """Register an open connection; pending faults are delivered to it now."""
        listener = _Listener(asyncio.get_running_loop(), handler)
        with self._lock:
            self._listeners.append(listener)
            pending, self._pending_chat = self._pending_chat, []
        for kind in pending:
            listener.loop.call_soon(handler, kind)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    # -- HTTP ----------------------------------------------------------------------------
    def http_status(self, path_prefix: str, status: int, *, count: int = 1) -> None:
        with self._lock:
            self._http.append(_HttpFault(path_prefix, status, count))

    def take_http(self, path: str) -> int | None:
        """The status to answer ``path`` with instead of serving it, if a fault is armed."""
        with self._lock:
            for fault in self._http:
                if fault.remaining > 0 and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    return fault.status
        return None

    def cut_download(self, after_bytes: int, *, count: int = 1) -> None:
        with self._lock:
            self._cuts.append([after_bytes, count])

    def take_cut(self) -> int | None:
        """Bytes to send before dropping the next image download, if a cut is armed."""
        with self._lock:
            for cut in self._cuts:
                if cut[1] > 0:
                    cut[1] -= 1
                    return cut[0]
        return None
