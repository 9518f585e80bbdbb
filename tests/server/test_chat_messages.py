"""Chat messages over a real socket: replies, errors that keep the connection (SPEC §6.3-§6.6)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.legacy.client import WebSocketClientProtocol

from server.embedded import EmbeddedServer
from server.settings import RateLimits, ServerSettings
from server.state import build_state
from tests.server.helpers import FakeClock, scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect, recv_json, send_json

pytestmark = pytest.mark.emu

TONE = (np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 8000).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    data: Path = tmp_path_factory.mktemp("chat") / "data"
    # Every test claims again: lift the claim rate limit for this shared server.
    limits = RateLimits(per_device=10**6, per_ip=10**6)
    settings = ServerSettings(data_dir=data, clock=FakeClock(), rate_limits=limits)
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


@pytest.fixture
async def ws(server: EmbeddedServer) -> AsyncIterator[WebSocketClientProtocol]:
    who = claim(server.base_url)
    socket = await connect(chat_url(server.ws_url, who), who.access_token)
    yield socket
    await socket.close()


async def _expect_error(ws: WebSocketClientProtocol, code: str) -> None:
    message = await recv_json(ws)
    assert message["type"] == "error", message
    assert message["error_code"] == code, message
    assert message["error_message"]
    assert message["timestamp"]


async def _still_alive(ws: WebSocketClientProtocol) -> None:
    await send_json(ws, {"type": "heartbeat"})
    reply = await recv_json(ws)
    assert reply["type"] == "system"
    assert reply["data"] == {"type": "heartbeat_response", "session_status": "active"}


async def _reply(ws: WebSocketClientProtocol) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    text = await recv_json(ws)
    assert text["type"] == "text_response", text
    frames: list[dict[str, Any]] = []
    while not frames or not frames[-1]["is_final"]:
        raw = await ws.recv()
        assert isinstance(raw, str)
        assert len(raw.encode()) < 8192
        import json

        frame = json.loads(raw)
        assert frame["type"] == "audio_response", frame
        frames.append(frame)
    return text, frames


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1,2,3]", "invalid_json"),
        ('{"type": "handshake", "device_id": "x"}', "unknown_message_type"),
        ('{"type": "auth/refresh"}', "unknown_message_type"),
        ('{"no_type": 1}', "invalid_message"),
        ('{"type": "audio_chunk", "audio_data": "!!!", "chunk_id": 1}', "invalid_audio_data"),
        ('{"type": "audio_end", "audio_session_id": "nobody"}', "unknown_audio_session"),
        ('{"type": "text_message", "text": "   "}', "empty_text"),
        ('{"type": "text_message"}', "invalid_message"),
    ],
)
async def test_bad_frames_get_an_error_and_keep_the_connection(
    ws: WebSocketClientProtocol, frame: str, code: str
) -> None:
    await ws.send(frame)
    await _expect_error(ws, code)
    await _still_alive(ws)


async def test_binary_and_oversize_frames(ws: WebSocketClientProtocol) -> None:
    await ws.send(b"\x00\x01")
    await _expect_error(ws, "binary_not_supported")
    await send_json(ws, {"type": "text_message", "text": "x" * 20000})
    await _expect_error(ws, "message_too_large")
    await _still_alive(ws)


async def test_utterance_gets_text_then_streamed_audio(ws: WebSocketClientProtocol) -> None:
    await send_json(ws, {"type": "audio_start", "audio_session_id": "utt-1"})
    ack = await recv_json(ws)
    assert ack["data"] == {
        "type": "audio_start_ack",
        "audio_session_id": "utt-1",
        "status": "ready",
    }
    for i in range(0, len(TONE), 4096):
        chunk = base64.b64encode(TONE[i : i + 4096]).decode()
        await send_json(
            ws,
            {
                "type": "audio_chunk",
                "audio_data": chunk,
                "chunk_id": i,
                "audio_session_id": "utt-1",
            },
        )
    await send_json(ws, {"type": "audio_end", "audio_session_id": "utt-1"})
    text, frames = await _reply(ws)
    assert text["transcript"] == "hello teddy"
    assert text["audio_session_id"] == "utt-1"
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert all(f["audio_session_id"] == "utt-1" for f in frames)
    assert frames[0]["text"] == text["text"]
    assert {(f["format"], f["sample_rate"]) for f in frames} == {("pcm_s16le", 16000)}
    pcm = b"".join(base64.b64decode(f["audio_data"]) for f in frames)
    assert len(pcm) > 16000  # over half a second of speech


async def test_final_chunk_then_audio_end_is_one_answer(ws: WebSocketClientProtocol) -> None:
    # Original defect 12: audio_end after is_final drew a no_audio_data error.
    await send_json(ws, {"type": "audio_start"})
    sid = (await recv_json(ws))["data"]["audio_session_id"]
    # This chunk carries no audio_session_id: it joins the open utterance.
    await send_json(
        ws,
        {
            "type": "audio_chunk",
            "chunk_id": "a",
            "is_final": True,
            "audio_data": base64.b64encode(TONE[:8000]).decode(),
        },
    )
    await send_json(ws, {"type": "audio_end", "audio_session_id": sid})
    text, _ = await _reply(ws)
    assert text["audio_session_id"] == sid
    await _still_alive(ws)


async def test_too_short_and_empty_utterances(ws: WebSocketClientProtocol) -> None:
    await send_json(ws, {"type": "audio_start", "audio_session_id": "short"})
    await recv_json(ws)
    await send_json(
        ws,
        {
            "type": "audio_chunk",
            "audio_session_id": "short",
            "chunk_id": 0,
            "audio_data": base64.b64encode(TONE[:1000]).decode(),
            "is_final": True,
        },
    )
    await _expect_error(ws, "audio_too_short")
    await send_json(ws, {"type": "audio_start", "audio_session_id": "empty"})
    await recv_json(ws)
    await send_json(ws, {"type": "audio_end", "audio_session_id": "empty"})
    await _expect_error(ws, "no_audio_data")


async def test_chunk_without_open_utterance(ws: WebSocketClientProtocol) -> None:
    await send_json(
        ws,
        {
            "type": "audio_chunk",
            "chunk_id": 0,
            "audio_data": base64.b64encode(TONE[:4096]).decode(),
        },
    )
    await _expect_error(ws, "unknown_audio_session")


async def test_text_message_gets_a_spoken_answer(ws: WebSocketClientProtocol) -> None:
    await send_json(ws, {"type": "text_message", "text": "tell me a joke"})
    text, frames = await _reply(ws)
    assert text["text"]
    assert "transcript" not in text
    assert frames[-1]["is_final"] is True
