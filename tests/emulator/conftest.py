"""Fixtures for the emulator tests: one scripted speech pipeline, a server and board per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.speech.pipeline import SpeechPipeline
from tests.emulator.helpers import Rig, start_server
from tests.server.helpers import scripted_pipeline


@pytest.fixture(scope="session")
def pipeline() -> SpeechPipeline:
    return scripted_pipeline()


@pytest.fixture
async def rig(tmp_path: Path, pipeline: SpeechPipeline) -> AsyncIterator[Rig]:
    server = start_server(tmp_path, pipeline)
    rig = Rig(root=tmp_path, server=server)
    try:
        yield rig
    finally:
        if rig.host is not None:
            await rig.host.stop()
        server.stop()
