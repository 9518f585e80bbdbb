"""Transport deadlines of SPEC §1.4 against a real socket: slow, idle and half-sent clients.

The server runs with short deadlines (``TIMEOUTS``); each test waits for the condition the
client would see (a response, the socket's EOF) with a deadline of the timeout plus
``MARGIN``, and checks it did not come before the timeout either. ``test_plain_uvicorn_*``
runs one check against uvicorn's own h11 protocol to show the check fails without
``server.http_timeouts``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from server import serving
from server.embedded import EmbeddedServer
from server.http_timeouts import TimedH11Protocol
from server.settings import ConnectionTimeouts, ServerSettings
from server.state import build_state
from tests.server.helpers import scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect

pytestmark = pytest.mark.emu

TIMEOUTS = ConnectionTimeouts(header_read_s=1.0, body_read_s=1.5, idle_keep_alive_s=0.4)
MARGIN = 2.0  # scheduling slack on a loaded 2-core machine; never waited out on success
EARLY = 0.1  # loop timers may fire this much before a socket-side clock says so
IDLE_SOCKETS = 300  # SPEC §1.4 acceptance: this many idle sockets are all closed
HEAD = b"POST /api/v1/pair/claim HTTP/1.1\r\nHost: teddy\r\nContent-Type: application/json\r\n"


def _serve(tmp_path: Path, heartbeat_interval_s: int = 30) -> EmbeddedServer:
    settings = ServerSettings(
        data_dir=tmp_path / "data", timeouts=TIMEOUTS, heartbeat_interval_s=heartbeat_interval_s
    )
    return EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline()))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with _serve(tmp_path) as s:
        yield s


@dataclass
class Ended:
    """What a client received before the server closed, and when (loop seconds)."""

    data: bytes
    after_s: float

    @property
    def status(self) -> int:
        return int(self.data.split(b" ", 2)[1])

    @property
    def headers(self) -> dict[str, str]:
        head = self.data.split(b"\r\n\r\n", 1)[0].decode()
        pairs = (line.split(":", 1) for line in head.split("\r\n")[1:])
        return {name.strip().lower(): value.strip() for name, value in pairs}

    @property
    def json(self) -> dict[str, dict[str, object]]:
        body: dict[str, dict[str, object]] = json.loads(self.data.split(b"\r\n\r\n", 1)[1])
        return body


async def _open(server: EmbeddedServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(server.host, server.port)


async def _until_eof(reader: asyncio.StreamReader, since: float, within: float) -> Ended | None:
    """Everything read until the server closes (EOF), or None if it is still open after
    ``within`` seconds."""
    loop = asyncio.get_running_loop()
    chunks: list[bytes] = []
    try:
        async with asyncio.timeout(within):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
    except TimeoutError:
        return None
    return Ended(b"".join(chunks), loop.time() - since)


async def _send(writer: asyncio.StreamWriter, data: bytes) -> float:
    writer.write(data)
    await writer.drain()
    return asyncio.get_running_loop().time()


def _assert_408(ended: Ended | None, deadline_s: float, phase: str) -> None:
    assert ended is not None, f"connection still open {deadline_s + MARGIN} s into the {phase}"
    assert ended.after_s >= deadline_s - EARLY, f"closed early: {ended.after_s:.2f} s"
    assert ended.status == 408
    error = ended.json["error"]
    assert error["code"] == "request_timeout"
    assert "SPEC §1.4" in str(error["message"])
    assert ended.headers["x-correlation-id"] == error["correlation_id"]
    assert ended.headers["connection"] == "close"


async def test_half_sent_head_gets_408_after_header_timeout(server: EmbeddedServer) -> None:
    opened = asyncio.get_running_loop().time()  # before connect: the server accepts later
    reader, writer = await _open(server)
    await _send(writer, HEAD)  # no blank line: the head never completes
    ended = await _until_eof(reader, opened, TIMEOUTS.header_read_s + MARGIN)
    _assert_408(ended, TIMEOUTS.header_read_s, "header read")
    writer.close()


async def test_head_and_half_a_body_get_408_after_body_timeout(server: EmbeddedServer) -> None:
    reader, writer = await _open(server)
    head_done = await _send(writer, HEAD + b"Content-Length: 100\r\n\r\n" + b'{"device_id"')
    ended = await _until_eof(reader, head_done, TIMEOUTS.body_read_s + MARGIN)
    _assert_408(ended, TIMEOUTS.body_read_s, "body read")
    writer.close()


async def test_silent_connection_is_closed_without_a_response(server: EmbeddedServer) -> None:
    opened = asyncio.get_running_loop().time()  # before connect: the server accepts later
    reader, writer = await _open(server)
    ended = await _until_eof(reader, opened, TIMEOUTS.header_read_s + MARGIN)
    assert ended is not None, "a connection that sent nothing is still open"
    assert ended.after_s >= TIMEOUTS.header_read_s - EARLY
    assert ended.data == b""
    writer.close()


async def test_slow_but_timely_request_is_served(server: EmbeddedServer) -> None:
    """Head in pieces within the header deadline, then the body in pieces within the body
    deadline: together longer than the header deadline, and still answered by the app."""
    body = b"{}"
    pieces = [*_split(HEAD + b"Content-Length: %d\r\n\r\n" % len(body), 4), *_split(body, 2)]
    pause = min(TIMEOUTS.header_read_s, TIMEOUTS.body_read_s) / 5
    reader, writer = await _open(server)
    for piece in pieces:
        await _send(writer, piece)
        # pacing of the client under test (a slow sender), not a wait for a condition
        await asyncio.sleep(pause)
    async with asyncio.timeout(MARGIN):
        status_line = await reader.readline()
    assert status_line.startswith(b"HTTP/1.1 422 "), status_line  # the claim route's answer
    writer.close()


def _split(data: bytes, parts: int) -> list[bytes]:
    size = -(-len(data) // parts)
    return [data[i : i + size] for i in range(0, len(data), size)]


async def test_kept_alive_connection_closes_after_idle_timeout(server: EmbeddedServer) -> None:
    reader, writer = await _open(server)
    await _send(writer, b"GET /health HTTP/1.1\r\nHost: teddy\r\n\r\n")
    async with asyncio.timeout(MARGIN):
        head = await reader.readuntil(b"\r\n\r\n")
    length = int(Ended(head, 0).headers["content-length"])
    await reader.readexactly(length)
    answered = asyncio.get_running_loop().time()
    # Idle keep-alive (0.4 s) is shorter than the header read (1 s) that also runs now.
    ended = await _until_eof(reader, answered, TIMEOUTS.header_read_s - EARLY)
    assert ended is not None, "kept-alive connection outlived its idle timeout"
    assert ended.after_s >= TIMEOUTS.idle_keep_alive_s - EARLY
    assert ended.data == b""
    writer.close()


async def test_300_idle_sockets_are_all_closed(server: EmbeddedServer) -> None:
    """All opened at once, none sends a byte: each sees EOF within its header read."""

    async def idle_socket() -> Ended | None:
        opened = asyncio.get_running_loop().time()  # before connect: the server accepts later
        reader, writer = await _open(server)
        try:
            return await _until_eof(reader, opened, TIMEOUTS.header_read_s + MARGIN)
        finally:
            writer.close()

    ends = await asyncio.gather(*(idle_socket() for _ in range(IDLE_SOCKETS)))
    closed = [e for e in ends if e is not None]
    assert len(closed) == IDLE_SOCKETS, f"{IDLE_SOCKETS - len(closed)} sockets still open"
    assert all(e.data == b"" for e in closed)
    assert min(e.after_s for e in closed) >= TIMEOUTS.header_read_s - EARLY


async def test_websocket_is_not_cut_by_http_deadlines(tmp_path: Path) -> None:
    """A chat silent past the header and body deadlines ends only with its own 4008 (§6.6):
    heartbeat 1 s, so the idle WebSocket limit is 3 s, beyond both HTTP deadlines."""
    with _serve(tmp_path, heartbeat_interval_s=1) as server:
        who = claim(server.base_url)
        ws = await connect(chat_url(server.ws_url, who), who.access_token)
        await ws.wait_closed()
        assert ws.close_code == 4008


async def test_plain_uvicorn_keeps_a_half_sent_head_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above on a server without the fix: uvicorn's own h11 protocol."""
    monkeypatch.setattr(serving, "timed_h11_protocol", lambda _t: H11Protocol)
    with _serve(tmp_path) as plain:
        reader, writer = await _open(plain)
        opened = await _send(writer, HEAD)
        assert await _until_eof(reader, opened, TIMEOUTS.header_read_s + MARGIN) is None
        writer.close()


def test_the_served_protocol_is_the_timed_one(tmp_path: Path) -> None:
    config = serving.uvicorn_config(
        FastAPI(),
        ServerSettings(data_dir=tmp_path, timeouts=TIMEOUTS),
        host="127.0.0.1",
        port=0,
        log_level="warning",
    )
    config.load()
    assert issubclass(config.http_protocol_class, TimedH11Protocol)
    assert config.http_protocol_class.timeouts == TIMEOUTS
    assert config.ws_max_size == 64 * 1024
