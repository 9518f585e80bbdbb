"""`ws_send` and hil.tap.inject: a frame of the harness's own goes into the device's live
WebSocket only between two of its messages (never inside a frame or a fragmented
message), masked, marked `probe` on the wire; the conformance scenarios built on it pass
on the reference server and fail on servers with the original's defects."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from websockets.legacy.server import WebSocketServerProtocol
from wsproto.frame_protocol import FrameProtocol, Opcode

from hil.errors import ScenarioLoadError
from hil.result import Status
from hil.scenario.loader import load_scenario
from hil.steps.kinds.ws_send import padded_heartbeat
from hil.tap.errors import TapError
from hil.tap.inject import Injection, client_frame
from hil.tap.records import WS
from hil.tap.tap import WireTap
from protocol import messages
from protocol.errors import MessageError
from server import chat_session
from tests.hil.conftest import WriteFile, run_on_emulator
from tests.hil_tap.helpers import dig, tapped

TIMEOUT = 10.0
HEAD = "version: 1\nname: t\ndescription: d\nsteps:\n"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ("ws_send: {}", "give exactly one of text, json, hex, size (got none)"),
        ("ws_send: {text: a, hex: '00'}", "(got text, hex)"),
        ("ws_send: {hex: zz}", "'zz' is not hex"),
        ("ws_send: {size: 10}", "at least 29 bytes"),
        ("ws_send: {text: a, opcode: close}", "close"),
    ],
)
def test_bad_ws_sends_are_refused_at_load(write: WriteFile, step: str, problem: str) -> None:
    path = write("x.yaml", f"{HEAD}  - {step}\n")
    with pytest.raises(ScenarioLoadError, match=re.escape(problem)) as info:
        load_scenario(path)
    assert info.value.problems[0].line == 5


@pytest.mark.unit
@pytest.mark.parametrize("size", [30, 16384, 65537])
def test_a_padded_heartbeat_is_valid_json_of_exactly_its_size(size: int) -> None:
    data = padded_heartbeat(size)
    assert len(data) == size and json.loads(data)["type"] == "heartbeat"


@pytest.mark.unit
@pytest.mark.parametrize("payload", [b"", b"x" * 125, b"y" * 126, b"z" * 70000])
def test_client_frames_are_masked_and_whole(payload: bytes) -> None:
    frame = client_frame(Opcode.BINARY, payload)
    assert frame[1] & 0x80  # the mask bit: a server refuses unmasked client frames
    server = FrameProtocol(client=False, extensions=[])
    server.receive_bytes(frame)
    (got,) = list(server.received_frames())
    assert got.payload == payload and got.message_finished


def _upgrade_request(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


@asynccontextmanager
async def collecting_server() -> AsyncIterator[tuple[str, list[str | bytes]]]:
    got: list[str | bytes] = []

    async def handler(ws: WebSocketServerProtocol) -> None:
        async for message in ws:
            got.append(message)

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}", got


async def _until(condition: Callable[[], bool]) -> None:
    """Poll a counter that has no event of its own (bytes a socket has taken in)."""
    async with asyncio.timeout(TIMEOUT):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _bytes_up(tap: WireTap) -> int:
    return sum(conn.bytes["up"] for conn in tap._connections)


@pytest.mark.emu
async def test_the_frame_waits_for_the_end_of_the_devices_message(tmp_path: Path) -> None:
    async with collecting_server() as (url, got), tapped(url, tmp_path) as (tap, wire):
        with pytest.raises(TapError, match="no WebSocket of the device is open"):
            tap.inject(Injection(Opcode.TEXT, b"early", "p0"))
        reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
        writer.write(_upgrade_request(tap.port))
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        device = FrameProtocol(client=True, extensions=[])
        first = bytes(device.send_data("hel", fin=False))  # a fragmented message begins
        rest = bytes(device.send_data("lo", fin=True))
        partial = first + rest[:3]  # ... and its last frame is cut in the middle
        handshake = _bytes_up(tap)
        writer.write(partial)
        await writer.drain()
        await _until(lambda: _bytes_up(tap) == handshake + len(partial))
        injection = Injection(Opcode.TEXT, b'{"type":"handshake"}', "p1")
        conn = tap.inject(injection)  # decides now: only more device bytes can change it
        assert not injection.sent.done(), "sent inside the device's message"
        assert "a message is on its way" in injection.waiting_for
        given_up = Injection(Opcode.TEXT, b"given up", "p0")
        tap.inject(given_up)
        given_up.fail("its step timed out")  # as ws_send does: it must never go out
        writer.write(rest[3:])
        await writer.drain()
        assert await asyncio.wait_for(injection.sent, TIMEOUT) == conn
        await _until(lambda: len(got) == 2)
        writer.close()
    assert got == ["hello", '{"type":"handshake"}']
    frames = [r.data for r in wire.records if r.name == WS and r.data["dir"] == "up"]
    assert len(frames) == 2 and frames[0]["text"] == "hello"
    assert dig(frames[1], "fields", "type") == "handshake"
    assert "probe" not in frames[0] and frames[1]["probe"] == "p1"
    assert frames[1]["frame_bytes"] == [2 + 4 + 20]


@pytest.mark.emu
async def test_nothing_goes_after_the_devices_close_frame(tmp_path: Path) -> None:
    async with collecting_server() as (url, got), tapped(url, tmp_path) as (tap, wire):
        reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
        writer.write(_upgrade_request(tap.port))
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        close = bytes(FrameProtocol(client=True, extensions=[]).close(1000, "normal"))
        before = _bytes_up(tap)
        writer.write(close)
        await writer.drain()
        await _until(lambda: _bytes_up(tap) == before + len(close))
        injection = Injection(Opcode.TEXT, b'{"type":"heartbeat"}', "p2")
        tap.inject(injection)
        assert not injection.sent.done()
        # the device's close, or the server's answer to it: either way, too late
        assert re.search("already (sent a close frame|closed it)", injection.waiting_for)
        await reader.read()  # the server answers the close and ends the connection
        writer.close()
        with pytest.raises(
            TapError, match=r"the connection ended \(\w+\) while the (device|server)"
        ):
            await asyncio.wait_for(injection.sent, TIMEOUT)
    assert got == []
    assert not [r for r in wire.records if r.name == WS and "probe" in r.data]


@pytest.mark.emu
@pytest.mark.parametrize("name", ["ws_message_refusals.yaml", "ws_frame_limits.yaml"])
async def test_the_conformance_frames_hold(name: str, tmp_path: Path) -> None:
    result = await run_on_emulator(f"conformance/{name}", tmp_path)
    assert result.status is Status.PASSED, result.detail
    records = [json.loads(line) for line in (tmp_path / "wire.jsonl").read_text().splitlines()]
    probes = [r for r in records if r["kind"] == "ws" and "probe" in r]
    assert probes and all(r["dir"] == "up" for r in probes)


async def _fails(name: str, artifacts: Path) -> str:
    result = await run_on_emulator(name, artifacts)
    assert result.status is Status.FAILED, result.detail
    print(f"{name}: {result.reason}")  # quoted in the report (pytest -s)
    return result.reason


@pytest.mark.emu
async def test_unknown_types_answered_with_processing_error_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = messages.parse_device_message  # what server.chat_session calls

    def original(text: str, **kwargs: Any) -> object:  # defect 9
        try:
            return parse(text, **kwargs)
        except MessageError as exc:
            if exc.code == "unknown_message_type":
                raise MessageError("processing_error", str(exc)) from exc
            raise

    monkeypatch.setattr(chat_session, "parse_device_message", original)
    reason = await _fails("conformance/ws_message_refusals.yaml", tmp_path)
    assert (
        "no matching ws on the wire" in reason
        and "(step 8 `expect_wire` at scenarios/conformance/ws_message_refusals.yaml:" in reason
    )


@pytest.mark.emu
async def test_a_server_without_the_transport_limit_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = uvicorn.Config

    def unlimited(*args: Any, **kwargs: Any) -> uvicorn.Config:
        return config(*args, **{**kwargs, "ws_max_size": 16 * 1024 * 1024})

    monkeypatch.setattr(uvicorn, "Config", unlimited)  # as server.embedded builds it
    reason = await _fails("conformance/ws_frame_limits.yaml", tmp_path)
    assert (
        "no matching ws on the wire" in reason
        and "(step 14 `expect_wire` at scenarios/conformance/ws_frame_limits.yaml:" in reason
    )
