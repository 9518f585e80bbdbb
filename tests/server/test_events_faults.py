"""Server events for the harness and injected faults (server.events, server.faults)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from protocol.image import build_app_image
from server.embedded import EmbeddedServer
from server.events import EventQueue, ServerEvent
from server.faults import UnknownFaultError
from server.releases import publish_release
from server.settings import ServerSettings
from server.state import ServerState, build_state
from tests.server.helpers import claim_body, scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect, recv_json, send_json

pytestmark = pytest.mark.emu


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "data")
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


def _state(server: EmbeddedServer) -> ServerState:
    assert server.state is not None
    return server.state


def _next(events: EventQueue, name: str) -> ServerEvent:
    while True:
        event = events.get(timeout=10)
        assert event is not None, f"no {name} event within 10 s"
        if event.name == name:
            return event


def test_claim_events(server: EmbeddedServer) -> None:
    events = _state(server).events.subscribe()
    httpx.post(f"{server.base_url}/api/v1/pair/claim", json=claim_body())
    assert _next(events, "claim.ok").data == {
        "device_id": "Teddy-ESP32-001",
        "child_id": "child-001",
    }
    httpx.post(f"{server.base_url}/api/v1/pair/claim", json={**claim_body(), "hmac_hex": "0" * 64})
    failed = _next(events, "claim.fail").data
    assert failed["status"] == 401 and failed["code"] == "invalid_signature"
    events.close()


def test_http_fault_answers_then_clears(server: EmbeddedServer) -> None:
    _state(server).faults.http_status("/api/v1/pair/claim", 503, count=1)
    url = f"{server.base_url}/api/v1/pair/claim"
    first = httpx.post(url, json=claim_body())
    assert first.status_code == 503
    assert first.headers["retry-after"] == "1"
    assert first.json()["error"]["code"] == "injected_fault"
    assert httpx.post(url, json=claim_body()).status_code == 200


def test_cut_download_drops_the_connection_once(server: EmbeddedServer) -> None:
    state = _state(server)
    release = publish_release(
        store=state.store,
        data_dir=state.settings.data_dir,
        image=build_app_image(version="1.5.0"),
        now=0,
    )
    url = f"{server.base_url}/web/firmware/{release.filename}"
    state.faults.cut_download(100)
    with pytest.raises(httpx.TransportError):
        httpx.get(url)
    assert len(httpx.get(url).content) == release.size


def test_unknown_fault_is_refused(server: EmbeddedServer) -> None:
    with pytest.raises(UnknownFaultError, match="valid: invalid_json"):
        _state(server).faults.inject("meteor")


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("invalid_json", lambda raw: isinstance(raw, str) and raw.startswith('{"type"')),
        ("unknown_type", lambda raw: json.loads(raw)["type"] == "surprise"),
        ("oversize_frame", lambda raw: len(raw) > 20 * 1024),
        ("binary_frame", lambda raw: isinstance(raw, bytes)),
    ],
)
async def test_chat_garbage_faults(server: EmbeddedServer, kind: str, check: object) -> None:
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    _state(server).faults.inject(kind)
    raw = await ws.recv()
    assert callable(check) and check(raw)
    await send_json(ws, {"type": "heartbeat"})
    assert (await recv_json(ws))["data"]["type"] == "heartbeat_response"
    await ws.close()


async def test_drop_connection_fault_and_pending_delivery(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    events = _state(server).events.subscribe()
    _state(server).faults.inject("drop_connection")  # no connection yet: kept for the next
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1006
    assert _next(events, "ws.close").data["code"] == 1006


async def test_utterance_event_names_what_was_heard(server: EmbeddedServer) -> None:
    events = _state(server).events.subscribe()
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    assert _next(events, "ws.open").data == {"device_id": "teddy-esp32-001"}
    await send_json(ws, {"type": "audio_start", "audio_session_id": "u1"})
    await recv_json(ws)
    pcm = base64.b64encode(bytes(8000)).decode()
    await send_json(
        ws,
        {
            "type": "audio_chunk",
            "audio_session_id": "u1",
            "chunk_id": 0,
            "audio_data": pcm,
            "is_final": True,
        },
    )
    await recv_json(ws)
    data = _next(events, "chat.utterance").data
    assert data["transcript"] == "hello teddy" and data["audio_session_id"] == "u1"
    await send_json(ws, {"type": "nonsense"})
    assert _next(events, "chat.error").data["code"] == "unknown_message_type"
    await ws.close()
