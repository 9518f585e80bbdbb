"""Fault injection into the reference server, for scenarios that test device robustness.

A scenario says ``server_fault: {kind: invalid_json}`` and the device must answer with an
``error``/``ws.close`` event and recover (SPEC §6.3: garbage on the wire). Chat faults
are delivered to every open chat connection at once (through each connection's event
loop) or, when none is open, to the next one that opens. HTTP faults apply to the next
``count`` matching requests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from server.errors import ServerError

CHAT_FAULTS = ("invalid_json", "oversize_frame", "unknown_type", "binary_frame", "drop_connection")
OVERSIZE_FRAME_BYTES = 20 * 1024

ChatFaultHandler = Callable[[str], None]


class UnknownFaultError(ServerError):
    def __init__(self, kind: str) -> None:
        valid = ", ".join((*CHAT_FAULTS, "http_status", "cut_download"))
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
