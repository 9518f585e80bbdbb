"""WebSocket handshake: every refusal happens before accept (SPEC §6.1, §6.2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatusCode

from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.state import build_state
from tests.server.helpers import FakeClock, claim_body, scripted_pipeline
from tests.server.ws_client import (
    Claimed,
    chat_url,
    claim,
    connect,
    recv_json,
    refused_upgrade,
    send_json,
)

pytestmark = pytest.mark.emu


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "data", clock=FakeClock())
    state = build_state(settings, pipeline=scripted_pipeline())
    with EmbeddedServer(settings, state=state) as running:
        yield running


async def _refused(url: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with pytest.raises(InvalidStatusCode) as info:
        await websockets.connect(url, extra_headers=headers)
    return info.value.status_code


@pytest.mark.parametrize("age", [2, 14, "seven", "", "7.5", -3])
async def test_age_outside_3_to_13_is_refused(server: EmbeddedServer, age: object) -> None:
    who = claim(server.base_url)
    assert await _refused(chat_url(server.ws_url, who, age=age), who.access_token) == 403


@pytest.mark.parametrize("age", [3, 13])
async def test_age_limits_are_inclusive(server: EmbeddedServer, age: int) -> None:
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who, age=age), who.access_token)
    await ws.close()


async def test_missing_and_bad_tokens_are_refused(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    url = chat_url(server.ws_url, who)
    assert await _refused(url, None) == 403
    assert await _refused(url, "not-a-jwt") == 403
    assert await _refused(url, who.access_token + "x") == 403


async def test_token_of_another_device_is_refused(server: EmbeddedServer) -> None:
    mine = claim(server.base_url)
    other = claim(server.base_url, device_id="Teddy-ESP32-002")
    forged = Claimed(other.access_token, mine.device_id, mine.child_id)
    assert await _refused(chat_url(server.ws_url, forged), forged.access_token) == 403
    wrong_child = Claimed(mine.access_token, mine.device_id, "someone-else")
    assert await _refused(chat_url(server.ws_url, wrong_child), mine.access_token) == 403


async def test_expired_token_is_refused(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    assert server.state is not None
    clock = server.state.settings.clock
    assert isinstance(clock, FakeClock)
    clock.advance(3601)
    assert await _refused(chat_url(server.ws_url, who), who.access_token) == 403


async def test_revoked_session_is_refused(server: EmbeddedServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        tokens = (await http.post("/api/v1/pair/claim", json=claim_body())).json()
        refresh = "/api/v1/pair/token/refresh"
        first = await http.post(refresh, json={"refresh_token": tokens["refresh_token"]})
        assert first.status_code == 200
        reused = await http.post(refresh, json={"refresh_token": tokens["refresh_token"]})
        assert reused.status_code == 401
    who = Claimed(tokens["access_token"], "Teddy-ESP32-001", "child-001")
    assert await _refused(chat_url(server.ws_url, who), who.access_token) == 403


async def test_denial_body_names_the_reason(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    response = await refused_upgrade(chat_url(server.ws_url, who, age=14), who.access_token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "age_out_of_range"


async def test_new_connection_replaces_the_old_one(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    url = chat_url(server.ws_url, who)
    old = await connect(url, who.access_token)
    new = await connect(url, who.access_token)
    await old.wait_closed()
    assert old.close_code == 4001
    assert old.close_reason == "session_replaced"
    await send_json(new, {"type": "heartbeat"})
    assert (await recv_json(new))["data"]["type"] == "heartbeat_response"
    await new.close()
