"""Fixtures: a teddy app image, a local Wokwi-protocol server, the env the target reads.

`wokwi_env` points wokwi-client (`WOKWI_CLI_SERVER`) at a `teddy-hil wokwi-server` on a
background thread with a dummy token, and the wokwi target at the app image
(`TEDDY_WOKWI_BUILD`), so everything below runs offline through the real wokwi-client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.core.timing import DeviceTiming
from hil.wokwi.cli import BackgroundServer
from hil.wokwi.server import ServerConfig, WokwiServer
from protocol.image import build_app_image

REPO = Path(__file__).resolve().parents[2]
DUMMY_TOKEN = "local-dummy-token"


@dataclass(frozen=True)
class LocalWokwi:
    url: str
    server: WokwiServer
    app: Path  # the app image the target uploads


@pytest.fixture
def app_image(tmp_path: Path) -> Path:
    path = tmp_path / "build" / "teddy.bin"
    path.parent.mkdir()
    path.write_bytes(build_app_image(version="1.0.0", payload=bytes(50_000)))
    return path


@pytest.fixture
def local_wokwi(
    tmp_path: Path, app_image: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalWokwi]:
    config = ServerConfig(directory=tmp_path / "wokwi-server", timing=DeviceTiming.realistic())
    background = BackgroundServer(config)
    with background as url:
        monkeypatch.setenv("WOKWI_CLI_SERVER", url)
        monkeypatch.setenv("WOKWI_CLI_TOKEN", DUMMY_TOKEN)
        monkeypatch.setenv("TEDDY_WOKWI_BUILD", str(app_image))
        monkeypatch.setenv("TEDDY_WOKWI_DIAGRAM", str(REPO / "firmware" / "diagram.json"))
        monkeypatch.delenv("TEDDY_WOKWI_SERVER_URL", raising=False)
        yield LocalWokwi(url, background.server, app_image)
