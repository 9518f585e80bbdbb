"""Close codes after accept: idle timeout and oversize frames (SPEC §6.2, §6.6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.state import build_state
from tests.server.helpers import scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect, send_json

pytestmark = pytest.mark.emu


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    # heartbeat 1 s: the idle limit (3 x heartbeat) is reached in 3 s.
    settings = ServerSettings(data_dir=tmp_path / "data", heartbeat_interval_s=1)
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


async def test_silent_device_is_closed_with_4008(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    await ws.wait_closed()
    assert ws.close_code == 4008
    assert ws.close_reason == "idle_timeout"


async def test_frame_over_64_kib_closes_with_1009(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    await send_json(ws, {"type": "text_message", "text": "x" * 70_000})
    await ws.wait_closed()
    assert ws.close_code == 1009
