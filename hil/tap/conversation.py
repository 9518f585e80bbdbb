"""`Conversation`: what one tapped connection said, decoded: HTTP until a 101, then WebSocket.

The relay calls `feed` after it has forwarded the bytes, so decoding never delays or
alters them. Whatever goes wrong in here (a peer's garbage is already handled by the
decoders; this catches the tap's own bugs) ends decoding for the connection with an
`error` record and never reaches the relay: the tap must not be why a scenario fails.
"""

from __future__ import annotations

from hil.tap.http import HttpObserver
from hil.tap.recorder import Recorder
from hil.tap.records import ERROR
from hil.tap.websocket import WebSocketObserver


class Conversation:
    def __init__(self, rec: Recorder) -> None:
        self._rec = rec
        self._http = HttpObserver(rec)
        self._ws: WebSocketObserver | None = None
        self._dead = False

    def feed(self, direction: str, data: bytes) -> None:
        if self._dead:
            return
        try:
            if self._ws is not None:
                self._ws.feed(direction, data)
                return
            self._http.feed(direction, data)
            if self._http.upgrade is not None:
                self._ws = WebSocketObserver(self._rec, self._http.upgrade)
        except Exception as exc:
            self._give_up(direction, exc)

    def eof(self, direction: str) -> None:
        if self._dead or self._ws is not None:
            return
        try:
            self._http.eof(direction)
        except Exception as exc:
            self._give_up(direction, exc)

    def finish(self, direction: str, how: str) -> None:
        if self._dead or self._ws is not None:
            return
        try:
            self._http.finish(how)
        except Exception as exc:
            self._give_up(direction, exc)

    @property
    def websocket(self) -> WebSocketObserver | None:
        """The WebSocket after a 101 (None before, and once decoding gave up)."""
        return None if self._dead else self._ws

    def upgrade_request_headers(self) -> list[list[str]]:
        upgrade = self._http.upgrade
        return [] if upgrade is None else upgrade.request_headers

    def unanswered(self) -> list[str]:
        """Requests of this connection that got no response (for the close record)."""
        return [] if self._dead or self._ws is not None else self._http.unanswered()

    def _give_up(self, direction: str, exc: Exception) -> None:
        self._dead = True
        error = f"the tap's decoder failed ({type(exc).__name__}: {exc}); bytes still forwarded"
        self._rec.emit(ERROR, direction, {"error": error})
