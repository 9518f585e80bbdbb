"""The tap in front of the real reference server: what the device gets is unchanged.

Keep-alive reuse, 304 revalidation, a Range/206 download of a firmware image, and a chat
session over the WebSocket whose URL the claim built from the tap's `Host`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from hil.tap.records import REQUEST, RESPONSE, WS
from protocol.image import build_app_image
from server.embedded import EmbeddedServer
from server.releases import publish_release
from server.settings import ServerSettings
from server.state import build_state
from tests.hil_tap.helpers import dig, tapped
from tests.server.helpers import claim_body, scripted_pipeline

pytestmark = pytest.mark.emu

CONFIG = "/api/v1/esp32/config"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path_factory.mktemp("server"))
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


def _same(direct: httpx.Response, tapped_: httpx.Response) -> None:
    assert tapped_.status_code == direct.status_code
    assert tapped_.content == direct.content
    drop = {"date", "x-correlation-id"}
    assert [(k, v) for k, v in tapped_.headers.items() if k not in drop] == [
        (k, v) for k, v in direct.headers.items() if k not in drop
    ]


async def test_keep_alive_reuses_one_connection_and_304s_are_passed_on(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    async with (
        tapped(server.base_url, tmp_path) as (tap, wire),
        httpx.AsyncClient(base_url=tap.url) as client,
        httpx.AsyncClient(base_url=server.base_url) as direct_client,
    ):
        first = await client.get(CONFIG)
        etag = first.headers["etag"]
        second = await client.get(CONFIG, headers={"If-None-Match": etag})
        # Sent straight to the server with the tap's Host, the answer is byte for byte
        # the one that came through the tap (the config names the host it was asked on).
        host = {"Host": tap.url.removeprefix("http://")}
        _same(await direct_client.get(CONFIG, headers=host), first)
    assert second.status_code == 304
    responses = [r.data for r in wire.records if r.name == RESPONSE]
    assert [(r["conn"], r["exchange"], r["status"]) for r in responses] == [
        (1, 1, 200),
        (1, 2, 304),
    ]
    assert ["etag", etag] in [[k.lower(), v] for k, v in dig(responses[1], "headers")]
    request = next(r.data for r in wire.records if r.name == REQUEST and r.data["exchange"] == 2)
    assert ["If-None-Match", etag] in dig(request, "headers")


async def test_a_range_download_streams_through_as_206(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    assert server.state is not None
    image = build_app_image(version="1.2.0", payload=bytes(range(256)) * 4000)  # ~1 MB
    release = publish_release(
        store=server.state.store, data_dir=server.settings.data_dir, image=image, now=time.time()
    )
    path = f"/web/firmware/{release.filename}"
    async with (
        tapped(server.base_url, tmp_path) as (tap, wire),
        httpx.AsyncClient(base_url=tap.url) as client,
    ):
        whole = await client.get(path)
        part = await client.get(path, headers={"Range": "bytes=1000-"})
    assert whole.content == image and part.status_code == 206 and part.content == image[1000:]
    full, ranged = [r.data for r in wire.records if r.name == RESPONSE]
    assert dig(full, "body", "size") == len(image)
    assert dig(full, "body", "sha256") == hashlib.sha256(image).hexdigest()
    assert ranged["status"] == 206 and ranged["complete"] is True
    assert dig(ranged, "body", "sha256") == hashlib.sha256(image[1000:]).hexdigest()


async def test_the_claims_websocket_url_leads_back_through_the_tap(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    async with tapped(server.base_url, tmp_path) as (tap, wire):
        async with httpx.AsyncClient(base_url=tap.url) as client:
            claim = (await client.post("/api/v1/pair/claim", json=claim_body())).json()
        url = claim["device_config"]["websocket_url"]
        assert url.startswith(f"{tap.ws_url}/")
        query = "device_id=Teddy-ESP32-001&child_id=child-001&child_name=Mia&child_age=7"
        headers = {"Authorization": f"Bearer {claim['access_token']}"}
        async with websockets.connect(f"{url}?{query}", extra_headers=headers) as ws:
            hello = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "heartbeat", "timestamp": "2025-01-01T00:00:00Z"}))
            await ws.recv()
    frames = [r.data for r in wire.records if r.name == WS]
    assert frames[0]["dir"] == "down" and frames[0]["fields"] == hello
    assert ("up", "heartbeat") in [(f["dir"], f.get("type")) for f in frames]
    upgrade = next(
        r.data for r in wire.records if r.name == REQUEST and "chat" in str(r.data["path"])
    )
    assert dig(upgrade, "query_params", "child_name") == "Mia"
    assert ["Authorization", headers["Authorization"]] in dig(upgrade, "headers")
