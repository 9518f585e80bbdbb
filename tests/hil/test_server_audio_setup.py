"""The scenario's server keeps what its recogniser received (capability server_audio).

The embedded server writes it into the scenario's artifact folder beside its data folder
(never inside it: privacy scenarios check that folder for audio); a server at a URL cannot
offer it, and says why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.runner.external import ExternalServer, ExternalServerOptions
from hil.runner.server_setup import SERVER_AUDIO_DIR, server_capabilities, settings_for
from hil.scenario.model import ServerSpec
from hil.targets.base import SERVER_AUDIO, SERVER_CAPABILITIES
from server.received_audio import check_received_audio

pytestmark = pytest.mark.unit


def test_the_embedded_server_writes_beside_its_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "server-data"
    settings = settings_for(ServerSpec(), data_dir=data)
    assert settings.received_audio_dir == tmp_path / SERVER_AUDIO_DIR == tmp_path / "server-audio"
    check_received_audio(settings)  # outside the data folder, development: allowed
    assert SERVER_AUDIO in SERVER_CAPABILITIES and SERVER_AUDIO in server_capabilities()


def test_a_production_scenario_runs_without_it(tmp_path: Path) -> None:
    settings = settings_for(ServerSpec(profile="production"), data_dir=tmp_path / "d")
    assert settings.received_audio_dir is None
    check_received_audio(settings)  # would refuse the setting; it is off


def test_a_server_at_a_url_does_not_offer_it() -> None:
    choice = ExternalServer(ExternalServerOptions(url="http://127.0.0.1:9"))
    choice._found = "no admin API"  # discovery's answer, without a network round trip
    assert SERVER_AUDIO not in choice.capabilities()
    assert "embedded server" in choice.capability_notes()[SERVER_AUDIO]
