"""Fixtures: a teddy app image, a local Wokwi-protocol server, the options the target takes.

`local_wokwi` starts a `teddy-hil wokwi-server` on a background thread; its `options`
point the wokwi target (`WokwiOptions`: api_url, a dummy token, build = the app image)
at it, so everything below runs offline through the real wokwi-client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.core.timing import DeviceTiming
from hil.wokwi.cli import BackgroundServer
from hil.wokwi.options import WokwiOptions
from hil.wokwi.server import ServerConfig, WokwiServer
from protocol.image import build_app_image

REPO = Path(__file__).resolve().parents[2]
DUMMY_TOKEN = "local-dummy-token"


@dataclass(frozen=True)
class LocalWokwi:
    url: str
    server: WokwiServer
    app: Path  # the app image the target uploads
    options: WokwiOptions  # the wokwi target's options for this server and image


@pytest.fixture
def app_image(tmp_path: Path) -> Path:
    path = tmp_path / "build" / "teddy.bin"
    path.parent.mkdir()
    path.write_bytes(build_app_image(version="1.0.0", payload=bytes(50_000)))
    return path


@pytest.fixture
def local_wokwi(tmp_path: Path, app_image: Path) -> Iterator[LocalWokwi]:
    config = ServerConfig(directory=tmp_path / "wokwi-server", timing=DeviceTiming.realistic())
    background = BackgroundServer(config)
    with background as url:
        options = WokwiOptions(
            build=app_image,
            diagram=REPO / "firmware" / "diagram.json",
            api_url=url,
            token=DUMMY_TOKEN,
        )
        yield LocalWokwi(url, background.server, app_image, options)
