"""A text frame that is not UTF-8: close 1007 as before, logged as one info line (SPEC §6.6)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.frames import OP_TEXT

from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.state import build_state
from tests.server.helpers import scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect

pytestmark = pytest.mark.emu


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "data")
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


async def test_invalid_utf8_frame_is_an_info_line_without_traceback(
    server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    await ws.write_frame(True, OP_TEXT, b"\xff\xfe{}")
    await ws.wait_closed()
    assert ws.close_code == 1007  # the behaviour towards the client is unchanged
    utf8 = [r for r in caplog.records if "Invalid UTF-8" in r.getMessage()]
    assert len(utf8) == 1, caplog.records
    assert utf8[0].levelno == logging.INFO
    assert utf8[0].exc_info is None and utf8[0].exc_text is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
