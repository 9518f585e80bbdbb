"""A minimal device-side WebSocket client for the chat tests (websockets 12 API)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
import websockets
from websockets.legacy.client import WebSocketClientProtocol

from tests.server.helpers import claim_body

RECV_TIMEOUT_S = 30.0


@dataclass
class Claimed:
    access_token: str
    device_id: str
    child_id: str


def claim(
    base_url: str, device_id: str = "Teddy-ESP32-001", child_id: str = "child-001"
) -> Claimed:
    response = httpx.post(f"{base_url}/api/v1/pair/claim", json=claim_body(device_id, child_id))
    response.raise_for_status()
    return Claimed(response.json()["access_token"], device_id, child_id)


def chat_url(ws_base: str, who: Claimed, *, age: object = 7, name: str = "Mia") -> str:
    query = httpx.QueryParams(
        {
            "device_id": who.device_id,
            "child_id": who.child_id,
            "child_name": name,
            "child_age": str(age),
        }
    )
    return f"{ws_base}/api/v1/esp32/private/chat?{query}"


async def connect(url: str, token: str | None) -> WebSocketClientProtocol:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    ws = await websockets.connect(url, extra_headers=headers, max_size=2**20)
    first = await recv_json(ws)
    assert first["type"] == "system", first
    assert first["data"]["type"] == "connection_established", first
    return ws


async def recv_json(ws: WebSocketClientProtocol) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), RECV_TIMEOUT_S)
    assert isinstance(raw, str)
    message: dict[str, Any] = json.loads(raw)
    return message


async def send_json(ws: WebSocketClientProtocol, message: dict[str, object]) -> None:
    await ws.send(json.dumps(message))


async def refused_upgrade(url: str, token: str) -> httpx.Response:
    """A WebSocket upgrade sent as plain HTTP, so the refusal's SPEC §1.2 body can be read."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    async with httpx.AsyncClient() as http:
        return await http.get(url.replace("ws://", "http://", 1), headers=headers)
