"""A small stand-in for a third-party server that speaks the original protocol's refusals.

Not the reference server (`server/`): an asyncio HTTP/1.1 responder for the device tests
of SPEC §8.4 ("What the server said"). Each path answers from its own list of canned
(status, body) answers, in order, the last one repeating; a path without answers gets
FastAPI's default 404 body `{"detail":"Not Found"}`. Every request is recorded. The
bodies are the original server's (original-system.md §1.1): its HTTPException handler
wrote `{"error":{"code":"HTTP_<status>","message":<detail>,...}}`, so two different
refusals share one code and differ only in their message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final

MAX_BODY: Final = 1 << 20


@dataclass(frozen=True)
class Canned:
    status: int
    body: bytes


def original_error(status: int, detail: str) -> Canned:
    """The original server's HTTPException body (its error handler's shape)."""
    error = {"code": f"HTTP_{status}", "message": detail, "correlation_id": "orig-1"}
    return Canned(status, json.dumps({"error": error}).encode())


DEVICE_NOT_FOUND: Final = original_error(404, "Device not registered or not found")
CHILD_NOT_FOUND: Final = original_error(404, "Child profile not found or inactive")
NOT_FOUND: Final = Canned(404, b'{"detail":"Not Found"}')  # FastAPI's default 404


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    body: bytes


@dataclass
class OriginalServer:
    """`async with OriginalServer({...}) as server:` serves on 127.0.0.1:<free port>."""

    answers: dict[str, list[Canned]]
    seen: list[Seen] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> OriginalServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def _answer(self, path: str) -> Canned:
        queue = self.answers.get(path)
        if not queue:
            return NOT_FOUND
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            method, target, _version = (await reader.readline()).decode("latin-1").split(" ", 2)
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = min(int(value.strip()), MAX_BODY)
            body = await reader.readexactly(length) if length else b""
            path = target.split("?", 1)[0]
            self.seen.append(Seen(method, path, body))
            canned = self._answer(path)
            head = (
                f"HTTP/1.1 {canned.status} {HTTPStatus(canned.status).phrase}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(canned.body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + canned.body)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
