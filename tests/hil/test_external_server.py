"""Scenarios against a server the harness did not start (`--server URL`, hil.runner.external).

A reference server started on its own stands in for a third party's: without the SPEC §11
admin API the scenarios that need server control are skipped, naming why, and the others
pass; with it, `given:`, `server:` settings, releases, faults, events and files work; a
defect of that server is caught through the same run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hil.cli import main
from hil.errors import HilError
from hil.result import ScenarioResult, Status
from hil.runner.external import ExternalServer, ExternalServerOptions, reset_settings
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.scenario.model import ServerSpec
from hil.server_edge import server_choice
from hil.targets.registry import choose
from protocol.provision import parse_provisioning
from server.embedded import EmbeddedServer
from server.limits import MemoryNonceStore
from server.settings import ServerSettings
from tests.hil.conftest import REPO

TOKEN = "harness-token-for-tests"


@pytest.fixture
def third_party(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A reference server started on its own, with the harness admin API on."""
    settings = ServerSettings(data_dir=tmp_path / "their-data", harness_token=TOKEN)
    with EmbeddedServer(settings) as server:
        yield server


async def run_against(server: ExternalServer, name: str, artifacts: Path) -> ScenarioResult:
    return await run_scenario(
        load_scenario(REPO / "scenarios" / name),
        target=choose("emulator"),
        artifact_dir=artifacts,
        pipeline=shared_pipeline(),
        server=server,
    )


def external(
    server: EmbeddedServer, token: str | None = None, known: object = None
) -> ExternalServer:
    provisioning = parse_provisioning(known) if known is not None else None
    options = ExternalServerOptions(server.base_url, harness_token=token, provisioning=provisioning)
    return ExternalServer(options)


@pytest.mark.emu
async def test_without_the_admin_api_control_is_skipped_and_the_rest_passes(
    third_party: EmbeddedServer, tmp_path: Path
) -> None:
    plain = external(third_party)  # no token: the API is there but not ours to use
    assert plain.capabilities() == frozenset()
    skipped = await run_against(plain, "ota/newer_applied.yaml", tmp_path / "ota")
    assert skipped.status is Status.SKIPPED
    assert "needs capability 'server_control' (the scenario's `given:`)" in skipped.reason
    assert "offers the harness admin API (SPEC §11) but no --harness-token" in skipped.reason
    for n, name in enumerate(["streaming/silence.yaml", "security/claim_refusals.yaml"]):
        result = await run_against(plain, name, tmp_path / str(n))
        assert result.status is Status.PASSED, result.detail
    # Nothing is reset between them: each scenario's device had an identity of its own.
    first, second = (
        (tmp_path / str(n) / "console.log").read_text().split('"device_id":"')[1][:20]
        for n in range(2)
    )
    assert first != second and first.startswith("Teddy-ESP32-")


@pytest.mark.emu
async def test_the_provisioning_file_gives_the_identities(
    third_party: EmbeddedServer, tmp_path: Path
) -> None:
    known = {
        "devices": [{"device_id": "Teddy-ESP32-00AA"}],
        "children": [{"child_id": "child-001", "name": "Ada", "age": 6}],
    }
    server = external(third_party, known=known)
    result = await run_against(server, "streaming/silence.yaml", tmp_path)
    assert result.status is Status.PASSED, result.detail
    log = (tmp_path / "console.log").read_text()
    assert '"device_id":"Teddy-ESP32-00AA"' in log and '"child_id":"child-001"' in log


@pytest.mark.emu
@pytest.mark.parametrize(
    "name",
    [
        "ota/newer_applied.yaml",  # given: releases, the server's events
        "claim/websocket_url_followed.yaml",  # server: chat_path, applied by a reset
        "privacy/keep_audio_for_debugging.yaml",  # its files, copied over the admin API
        # a fault once the device is online (a fault armed before boot races the device
        # over HTTP: claim/server_unavailable can lose against a server at a URL)
        "faults/invalid_json.yaml",
    ],
)
async def test_with_the_admin_api_server_control_works(
    third_party: EmbeddedServer, tmp_path: Path, name: str
) -> None:
    result = await run_against(external(third_party, TOKEN), name, tmp_path)
    assert result.status is Status.PASSED, result.detail


@pytest.mark.emu
async def test_a_defect_of_the_server_under_test_is_caught(
    third_party: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def every_nonce_fresh(self: MemoryNonceStore, **_: object) -> bool:
        return True  # their server forgot replay protection (SPEC §2.4)

    monkeypatch.setattr(MemoryNonceStore, "consume", every_nonce_fresh)
    result = await run_against(external(third_party), "security/claim_refusals.yaml", tmp_path)
    assert result.status is Status.FAILED
    assert "POST /api/v1/pair/claim -> 200" in result.reason


@pytest.mark.unit
def test_reset_settings_and_bad_flags() -> None:
    spec = ServerSpec(access_ttl_s=4, rate_limits=(2, 5, 60.0), chat_path="/ws/v2")
    assert reset_settings(spec) == {
        "profile": "development",
        "access_ttl_s": 4,
        "chat_path": "/ws/v2",
        "rate_limits": {"per_device": 2, "per_ip": 5, "window_s": 60.0},
    }
    with pytest.raises(HilError, match="need --server URL"):
        server_choice(None, token="t", provisioning=None)
    with pytest.raises(HilError, match="base URL"):
        server_choice("127.0.0.1:8000", token=None, provisioning=None)


@pytest.mark.emu
def test_cli_says_what_is_wrong_with_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.yaml")
    args = ["run", str(REPO / "scenarios/claim/happy.yaml"), "--artifacts", str(tmp_path)]
    assert main([*args, "--harness-token", "x"], env={}) == 2
    assert main([*args, "--server", "http://127.0.0.1:9", "--server-provisioning", missing]) == 2
    out = capsys.readouterr().out
    assert "need --server URL" in out and "cannot read provisioning YAML" in out
    assert main([*args, "--server", "http://127.0.0.1:9"], env={}) == 2
    assert "cannot reach the server under test at http://127.0.0.1:9" in capsys.readouterr().out


@pytest.mark.emu
def test_a_wrong_harness_token_is_an_error(third_party: EmbeddedServer) -> None:
    with pytest.raises(HilError, match="refused the harness token"):
        external(third_party, "not-the-token-at-all").capabilities()
