"""The emulator against a server in the original's style: its events say why (SPEC §8.4).

The server (tests/emulator/original_server.py, not the reference server) answers the
claim with the original's two different 404s, both `HTTP_404`; the device must report
the two reasons, and the config 404 in FastAPI's shape, in its own event lines. The same
test runs on the C firmware in tests/firmware/test_fw_host_says_why.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.host import DeviceSettings, EmulatorHost
from protocol.constants import CLAIM_PATH
from tests.emulator.helpers import FAST, Lines
from tests.emulator.original_server import CHILD_NOT_FOUND, DEVICE_NOT_FOUND, OriginalServer

pytestmark = pytest.mark.emu


async def test_two_original_404s_give_two_reasons(tmp_path: Path) -> None:
    answers = {CLAIM_PATH: [DEVICE_NOT_FOUND, CHILD_NOT_FOUND]}
    async with OriginalServer(answers) as server:
        lines = Lines()
        settings = DeviceSettings(
            server_url=server.base_url,
            flash_dir=tmp_path / "flash",
            audio_dir=tmp_path / "audio",
            timing=FAST,
        )
        host = EmulatorHost(settings, on_line=lines)
        try:
            await host.start()
            config = await lines.wait("config.fail")
            first = await lines.wait("claim.fail")
            mark = lines.mark()
            await host.write_line("claim")  # SPEC §2.6: a 404 needs a human; they try again
            second = await lines.wait("claim.fail", since=mark)
        finally:
            await host.stop()
    # No config route in this server: FastAPI's default body, quoted (SPEC §4.3, §8.4).
    assert (config.data["status"], config.data["error"]) == (404, "http_404")
    assert config.data["message"] == "Not Found"
    assert (first.data["status"], first.data["code"], first.data["retry_in_ms"]) == (
        404,
        "HTTP_404",
        0,
    )
    assert first.data["message"] == "Device not registered or not found"
    assert second.data["code"] == "HTTP_404"
    assert second.data["message"] == "Child profile not found or inactive"
    assert len(server.requests_to(CLAIM_PATH)) == 2
