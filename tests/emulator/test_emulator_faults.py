"""Garbage from the server and failing claims: the board prints an event and recovers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
from websockets.legacy.server import WebSocketServerProtocol

from protocol.constants import CLAIM_PATH
from server.speech.pipeline import SpeechPipeline
from tests.emulator.helpers import Lines, Rig, start_server

pytestmark = pytest.mark.emu

TS = "2025-11-26T18:36:00.123+00:00"
HELLO = json.dumps(
    {
        "type": "system",
        "data": {
            "type": "connection_established",
            "session_id": "3f1c2b9e-8d7a-4e61-b0c4-5a2f9e7d1c30",
            "message": "Hello Mia! I'm ready to chat!",
            "server_time": TS,
        },
        "timestamp": TS,
    }
)


class FakeChat:
    """A tiny WebSocket server standing in for the chat endpoint; one script per connection."""

    def __init__(self) -> None:
        self.connections = 0
        self.received: list[str] = []
        self.server: websockets.WebSocketServer | None = None

    async def handler(self, ws: WebSocketServerProtocol) -> None:
        self.connections += 1
        await ws.send(HELLO)
        if self.connections == 1:
            await ws.send("{not json")
            await ws.send(json.dumps({"type": "stream_ack", "timestamp": TS}))
            await ws.send(json.dumps({"type": "text_response", "text": "no timestamp"}))
            await ws.send(b"\x00\x01")
            await ws.send(
                json.dumps({"type": "text_response", "text": "x" * 9000, "timestamp": TS})
            )
        elif self.connections == 2:
            assert ws.transport is not None
            ws.transport.abort()  # drop without a close frame
            return
        async for message in ws:
            self.received.append(str(message))

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(next(iter(self.server.sockets)).getsockname()[1])


@pytest.fixture
async def fake_rig(tmp_path: Path, pipeline: SpeechPipeline) -> AsyncIterator[tuple[Rig, FakeChat]]:
    chat = FakeChat()
    chat.server = await websockets.serve(chat.handler, "127.0.0.1", 0)
    # The claim's websocket_url names public_port: the board dials the fake chat server.
    server = start_server(tmp_path, pipeline, public_port=chat.port)
    rig = Rig(root=tmp_path, server=server)
    try:
        yield rig, chat
    finally:
        if rig.host is not None:
            await rig.host.stop()
        server.stop()
        chat.server.close()
        await chat.server.wait_closed()


async def test_server_garbage_prints_events_and_the_board_recovers(
    fake_rig: tuple[Rig, FakeChat],
) -> None:
    rig, chat = fake_rig
    await rig.board().start()
    lines: Lines = rig.lines
    await lines.wait("ws.open")
    oversize = await lines.wait("ws.close", lambda d: d["code"] == 1009)
    codes = [e.data["code"] for e in lines.named("error")]
    assert codes == [
        "invalid_json",
        "unknown_message_type",
        "invalid_message",
        "binary_not_supported",
    ]
    assert "timestamp" in str(lines.named("error")[2].data["message"])
    assert oversize.data["code"] == 1009
    second = await lines.wait("ws.open", since=lines.events.index(oversize))
    dropped = await lines.wait("ws.close", lambda d: d["code"] == 1006)
    assert lines.events.index(dropped) > lines.events.index(second)
    await lines.wait("ws.open", since=lines.events.index(dropped))
    assert chat.connections == 3
    states = [e.data["to"] for e in lines.named("state")]
    assert states.count("offline") == 2 and states[-1] == "idle"
    assert rig.host is not None
    await rig.host.write_line("text still alive?")
    for _ in range(50):
        if chat.received:
            break
        await asyncio.sleep(0.02)
    assert json.loads(chat.received[-1]) == {"type": "text_message", "text": "still alive?"}


async def test_claim_503_backs_off_with_jitter_then_succeeds(rig: Rig) -> None:
    # The server's own fault (what `server_fault: {kind: http_status}` arms): two 503s.
    assert rig.server.state is not None
    rig.server.state.faults.http_status(CLAIM_PATH, 503, count=2)
    await rig.board().start()
    await rig.lines.wait("claim.ok")
    fails = [e.data for e in rig.lines.named("claim.fail")]
    assert [(f["status"], f["code"], f["attempt"]) for f in fails] == [
        (503, "injected_fault", 1),
        (503, "injected_fault", 2),
    ]
    first, second = (int(str(f["retry_in_ms"])) for f in fails)
    assert 75 <= first <= 125 and 150 <= second <= 250  # 100 ms * 2^(n-1) ±25 % (SPEC §2.6)
    await rig.lines.wait("ws.open")


async def test_unknown_device_is_not_retried(rig: Rig) -> None:
    host = rig.board(device_id="Bear-0001-XYZ")  # no teddy-esp32- prefix: not auto-registered
    await host.start()
    failed = await rig.lines.wait("claim.fail")
    assert failed.data == {
        "status": 404,
        "code": "device_not_found",
        "attempt": 1,
        "retry_in_ms": 0,
        "message": "device is not registered; provision it (teddy-server provision)",
        "field": "",
    }
    await rig.lines.wait("state", lambda d: d["to"] == "offline")
    await asyncio.sleep(0.4)
    assert len(rig.lines.named("claim.fail")) == 1
    mark = rig.lines.mark()
    await host.write_line("claim")  # a human asks again
    again = await rig.lines.wait("claim.fail", since=mark)
    assert again.data["attempt"] == 2
