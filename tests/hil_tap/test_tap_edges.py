"""The tap between real sockets at the edges: bytes as sent, garbage, resets, half-closes.

The servers here are small asyncio servers scripted per test (or `websockets`), so each
test can make the server do what the reference server never does on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import websockets
from websockets.legacy.server import WebSocketServerProtocol

from hil.streams import WireLog
from hil.tap.records import CLOSE, ERROR, RESPONSE, WS
from hil.tap.relay import reset
from tests.hil_tap.helpers import dig, tapped

pytestmark = pytest.mark.emu

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
TIMEOUT = 10.0


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def wait_kind(wire: WireLog, kind: str) -> dict[str, object]:
    record = await wire.wait_for(lambda r: r.name == kind, start=0, within=TIMEOUT)
    assert record is not None, f"no {kind} record; have {[r.text for r in wire.records]}"
    return record.data


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def test_bytes_go_through_unchanged_both_ways(tmp_path: Path) -> None:
    sent = (
        b"POST /x HTTP/1.1\r\nhOsT: a\r\nX-Odd:  spaced \r\nContent-Length: 5\r\n\r\nhello"
        + bytes(range(256)) * 64  # and then not HTTP at all
    )
    async with raw_server(echo) as url, tapped(url, tmp_path) as (tap, wire):
        reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
        writer.write(sent)
        writer.write_eof()
        got = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        await wait_kind(wire, CLOSE)
    assert got == sent
    kinds = [r.name for r in wire.records]
    assert kinds[:2] == ["connect", "request"]
    assert ERROR in kinds  # what followed the request is not HTTP: said once, still forwarded
    request = wire.records[1].data
    assert ["hOsT", "a"] in dig(request, "headers")
    close = next(r.data for r in wire.records if r.name == CLOSE)
    assert close["bytes_up"] == close["bytes_down"] == len(sent)


async def chunked_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    )
    for part in (b'{"a":', b" [1, 2", b"]}"):
        writer.write(b"%x\r\n%s\r\n" % (len(part), part))
        await writer.drain()
        await asyncio.sleep(0.01)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_a_chunked_response_is_decoded_as_it_streams(tmp_path: Path) -> None:
    async with raw_server(chunked_then_close) as url, tapped(url, tmp_path) as (tap, wire):
        reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
        writer.write(b"GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
        got = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        response = await wait_kind(wire, RESPONSE)
    assert got.endswith(b"0\r\n\r\n") and b"6\r\n [1, 2\r\n" in got
    assert dig(response, "body", "json") == {"a": [1, 2]}


async def test_half_close_lets_the_answer_come_back(tmp_path: Path) -> None:
    async def read_all_then_answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        data = await reader.read()  # to the device's FIN
        writer.write(b"HTTP/1.0 200 OK\r\n\r\n" + str(len(data)).encode())
        await writer.drain()
        writer.close()

    async with raw_server(read_all_then_answer) as url, tapped(url, tmp_path) as (tap, wire):
        reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
        request = b"GET / HTTP/1.0\r\n\r\n"
        writer.write(request)
        writer.write_eof()
        got = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        close = await wait_kind(wire, CLOSE)
    assert got == b"HTTP/1.0 200 OK\r\n\r\n" + str(len(request)).encode()
    response = next(r.data for r in wire.records if r.name == RESPONSE)
    assert response["complete"] is True
    assert dig(response, "body", "size") == len(str(len(request)))
    assert close["how"] == "eof" and close["dir"] == "up"  # the device shut down first


async def test_a_server_reset_reaches_the_device_as_a_reset(tmp_path: Path) -> None:
    async def reset_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + bytes(100))
        await writer.drain()
        await asyncio.sleep(0.05)
        transport = writer.transport
        assert isinstance(transport, asyncio.Transport)
        reset(transport)

    async with raw_server(reset_mid_body) as url, tapped(url, tmp_path) as (tap, wire):
        reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
        writer.write(b"GET /f HTTP/1.1\r\nHost: t\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            while await asyncio.wait_for(reader.read(65536), TIMEOUT):
                pass
        writer.close()
        close = await wait_kind(wire, CLOSE)
    response = next(r.data for r in wire.records if r.name == RESPONSE)
    assert response["complete"] is False and dig(response, "body", "size") == 100
    assert close["how"] == "reset" and close["dir"] == "down"


async def test_an_unreachable_server_resets_the_device_and_the_tap_carries_on(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with tapped(f"http://127.0.0.1:{port}", tmp_path) as (tap, wire):
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            with contextlib.suppress(ConnectionResetError):
                assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
            writer.close()
        await wire.wait_for(
            lambda r: r.data.get("conn") == 2 and r.name == CLOSE, start=0, within=TIMEOUT
        )
    closes = [r.data for r in wire.records if r.name == CLOSE]
    assert [c["how"] for c in closes] == ["upstream_failed", "upstream_failed"]
    assert "ConnectionRefusedError" in str(closes[0]["error"])
    assert tap.problems == []


async def test_garbage_from_a_device_gets_the_servers_own_answer(tmp_path: Path) -> None:
    from server.embedded import EmbeddedServer
    from server.settings import ServerSettings
    from server.state import build_state
    from tests.server.helpers import scripted_pipeline

    settings = ServerSettings(data_dir=tmp_path / "server")
    garbage = b"\x16\x03\x01\x00\xa5 not http at all\r\n\r\n"
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        answers = []
        async with tapped(s.base_url, tmp_path) as (tap, wire):
            for port in (s.port, tap.port):  # straight to the server, then through the tap
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(garbage)
                answers.append(await asyncio.wait_for(reader.read(), TIMEOUT))
                writer.close()
            error = await wait_kind(wire, ERROR)
            await wait_kind(wire, CLOSE)
    assert answers[0] == answers[1] and answers[0].startswith(b"HTTP/1.1 400")
    assert error["dir"] == "up" and "device" in str(error["error"])


async def test_websocket_fragments_pings_and_close_codes(tmp_path: Path) -> None:
    async def session(ws: WebSocketServerProtocol) -> None:
        message = await ws.recv()
        await ws.send(['{"type": ', '"echo", "n": ', str(len(message)), "}"])  # fragmented
        await ws.ping(b"are you there")
        await ws.close(4000, "done here")

    async with websockets.serve(session, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with tapped(f"http://127.0.0.1:{port}", tmp_path) as (tap, wire):
            async with websockets.connect(tap.ws_url + "/chat") as ws:
                await ws.send(iter(['{"type":"audio_chunk",', '"audio_data":"AAAA"}']))
                echoed = json.loads(await ws.recv())
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.recv()
            assert ws.close_code == 4000 and ws.close_reason == "done here"
            await wait_kind(wire, CLOSE)
    frames = [(r.data["dir"], r.data["opcode"], r.data) for r in wire.records if r.name == WS]
    up_text = next(f for d, op, f in frames if d == "up" and op == "text")
    # websockets ends a message sent from an iterable with an empty final frame
    assert up_text["frames"] == 3 and up_text["type"] == "audio_chunk"
    assert dig(up_text, "fields", "audio_data") == {
        "base64_chars": 4,
        "size": 3,
        "sha256": hashlib.sha256(bytes(3)).hexdigest(),  # "AAAA" is three zero bytes
    }
    down_text = next(f for d, op, f in frames if d == "down" and op == "text")
    assert down_text["frames"] == 5 and down_text["fields"] == echoed
    assert [(d, op) for d, op, _ in frames if op in ("ping", "pong")] == [
        ("down", "ping"),
        ("up", "pong"),
    ]
    closes = [(d, f["code"], f["reason"]) for d, op, f in frames if op == "close"]
    assert closes == [("down", 4000, "done here"), ("up", 4000, "done here")]
