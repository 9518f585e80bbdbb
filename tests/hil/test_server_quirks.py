"""Every legacy-server quirk (SPEC Appendix B) is caught by a scenario: run with the quirk on,
the scenario fails, and its one-line reason names the wire record or the rule (with its SPEC
section) that broke. The probe scenarios' catches are in tests/hil/test_probe.py; together
the two cover the whole vocabulary, each with a scenario its Appendix B row names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest

from hil.errors import ScenarioLoadError, display_path
from hil.result import Status
from hil.runner.server_setup import settings_for
from hil.scenario.loader import load_scenario
from hil.scenario.model import ServerSpec
from protocol.server_quirks import QUIRK_NAMES
from tests.hil.conftest import WriteFile, run_on_emulator
from tests.hil.test_probe import PROBE_CATCHES
from tests.protocol.test_server_quirks import appendix_b_rows

HEAD = "version: 1\nname: t\ndescription: d\n"
STEP = "steps:\n  - expect: boot\n"

# (scenario, quirk, what the failure reason says); each scenario passes without the quirk.
CATCHES: Final = (
    ("claim/happy.yaml", "double_prefix_routes", "no config.ok matching within 10s"),
    (
        "security/legacy_paths.yaml",
        "legacy_ws_path_crash",
        "invariant no_5xx (SPEC §1.2): GET /ws/esp32/connect answered 500",
    ),
    (
        "streaming/child_name_with_spaces.yaml",
        "child_id_as_uuid",
        "no text.rx matching within 10s (step 13 `expect_reply`",
    ),
    (
        "claim/websocket_url_followed.yaml",
        "legacy_websocket_url",
        "forbidden device event error with code =~ 'config_mismatch' happened",
    ),
    ("claim/happy.yaml", "legacy_websocket_url", "no ws.open matching"),
    ("token/refresh_rotation.yaml", "refresh_always_refused", "no token.refreshed matching"),
    (
        "security/claim_retry_same_nonce.yaml",
        "nonce_burned_before_hmac",
        "POST /api/v1/pair/claim -> 409 (step 10 `http` at",
    ),
    ("security/claim_refusals.yaml", "nonce_burned_before_hmac", "claim_refusals.yaml:25)"),
    (
        "claim/disabled_device.yaml",
        "disabled_device_500",
        "invariant no_5xx (SPEC §1.2): POST /api/v1/pair/claim answered 500",
    ),
    (
        "config/etag_304.yaml",
        "etag_string_compare",
        "invariant not_modified_headers (SPEC §4.2): 304 for /api/v1/esp32/config without etag",
    ),
    ("age/age_14.yaml", "dashboard_age_limit", "no ws.refused matching"),
    (
        "conformance/ws_message_refusals.yaml",
        "unknown_type_processing_error",
        "ws_message_refusals.yaml:",
    ),
    (
        "streaming/one_turn.yaml",
        "audio_end_after_final_error",
        "invariant no_error_frame (SPEC §6.3): the server sent an error frame (no_audio_data)",
    ),
    (
        "privacy/no_audio_at_rest.yaml",
        "keep_every_utterance",
        "file(s) for '**/*.wav' (step 11 `expect_files`",
    ),
    (
        "streaming/one_turn.yaml",
        "reply_in_one_frame",
        "invariant downlink_frame_size (SPEC §7.3): a ",
    ),
)


@pytest.mark.unit
def test_every_quirk_is_caught_by_a_scenario_its_row_names() -> None:
    caught = {quirk for _, quirk, _ in (*CATCHES, *PROBE_CATCHES)}
    assert sorted(caught) == sorted(QUIRK_NAMES)  # a quirk no scenario catches is a gap
    rows = {row[0].strip("`"): row[4] for row in appendix_b_rows()}
    for name, quirk, _ in (*CATCHES, *PROBE_CATCHES):
        named = re.findall(r"`([a-z_]+/[a-z0-9_]+)`", rows[quirk])
        assert name.removesuffix(".yaml") in named, (quirk, name)


@pytest.mark.emu
@pytest.mark.parametrize(
    ("name", "quirk", "reason"),
    (*CATCHES, *PROBE_CATCHES),  # the probe scenarios' quirks are listed in test_probe
    ids=[f"{c[1]}-{c[0]}" for c in (*CATCHES, *PROBE_CATCHES)],
)
async def test_the_scenario_fails_with_the_quirk(
    tmp_path: Path, name: str, quirk: str, reason: str
) -> None:
    result = await run_on_emulator(name, tmp_path, quirks=(quirk,))
    assert result.status is Status.FAILED, result.detail
    assert reason in result.reason, result.reason


@pytest.mark.emu
async def test_a_corrected_retry_with_the_same_nonce_holds(tmp_path: Path) -> None:
    result = await run_on_emulator("security/claim_retry_same_nonce.yaml", tmp_path)
    assert result.status is Status.PASSED, result.detail


@pytest.mark.unit
def test_a_scenarios_quirks_reach_the_server_settings(write: WriteFile, tmp_path: Path) -> None:
    path = write(
        "q.yaml", f"{HEAD}server: {{quirks: [reply_in_one_frame, chat_without_jwt]}}\n{STEP}"
    )
    spec = load_scenario(path).server
    assert spec.quirks == ("reply_in_one_frame", "chat_without_jwt")
    settings = settings_for(spec, data_dir=tmp_path)
    assert settings.quirks.names() == ("chat_without_jwt", "reply_in_one_frame")
    assert not settings_for(ServerSpec(), data_dir=tmp_path).quirks


@pytest.mark.unit
@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ("{quirks: [handshake_crash]}", "'handshake_crash' is not valid for server.quirks[1]"),
        ("{quirks: [chat_without_jwt, chat_without_jwt]}", "has non-unique elements"),
        (
            "{profile: production, quirks: [chat_without_jwt]}",
            "server.quirks at {file}:4 need profile development",
        ),
    ],
)
def test_bad_quirks_are_refused_at_load(write: WriteFile, server: str, problem: str) -> None:
    path = write("q.yaml", f"{HEAD}server: {server}\n{STEP}")
    with pytest.raises(ScenarioLoadError) as refused:
        load_scenario(path)
    assert problem.format(file=display_path(path)) in str(refused.value)
