"""`http` probes (hil.probe): refused at load when malformed; on real runs, the security and
conformance scenarios pass on the reference server and fail on a server with one of the
original's defects put back by name (SPEC Appendix B, protocol.server_quirks): a chat that
takes any upgrade (defect 8), a token-minting legacy path (defect 7), no refresh token reuse
detection, no replay protection, If-None-Match as a string (defect 17), no suffix ranges,
the dashboard's age limit (defect 23)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

import pytest

from hil.errors import ScenarioLoadError
from hil.result import Status
from hil.scenario.loader import load_scenario
from tests.hil.conftest import WriteFile, run_on_emulator

HEAD = "version: 1\nname: t\ndescription: d\nsteps:\n"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ("http: {path: x}", "'x' must start with /"),
        ("http: {path: /a, json: {}, body: b}", "give json or body, not both"),
        ("http: {path: /a, method: BREW}", "BREW"),
        ("http: {path: /a, expect: {status: 200, method: GET}}", "method"),
        ("http: {method: GET}", "path"),
    ],
)
def test_bad_probes_are_refused_at_load(write: WriteFile, step: str, problem: str) -> None:
    path = write("x.yaml", f"{HEAD}  - {step}\n")
    with pytest.raises(ScenarioLoadError, match=re.escape(problem)):
        load_scenario(path)


@pytest.mark.emu
async def test_refusals_hold_and_probes_are_not_judged_as_the_device(tmp_path: Path) -> None:
    result = await run_on_emulator("security/websocket_refusals.yaml", tmp_path)
    assert result.status is Status.PASSED, result.detail
    records = [json.loads(line) for line in (tmp_path / "wire.jsonl").read_text().splitlines()]
    probes = [
        r for r in records if r["kind"] == "request" and "x-teddy-probe" in dict(r["headers"])
    ]
    assert len(probes) == 5  # upgrades without a Bearer token: upgrade_bearer let them be
    assert not any(name.lower() == "authorization" for name, _ in probes[0]["headers"])


# The probe scenarios against the original server's defects, put back by name (SPEC
# Appendix B): (scenario, quirk, what the failure reason says). Each passes without it.
PROBE_CATCHES: Final = (
    (
        "security/websocket_refusals.yaml",
        "chat_without_jwt",
        "GET /api/v1/esp32/private/chat -> 101",
    ),
    (
        "security/legacy_paths.yaml",
        "legacy_token_minting",
        "POST /api/v1/esp32/token/refresh -> 200",
    ),
    (
        "security/refresh_reuse_revokes_session.yaml",
        "refresh_reuse_undetected",
        "POST /api/v1/pair/token/refresh -> 200",
    ),
    ("security/claim_refusals.yaml", "claim_replay_accepted", "POST /api/v1/pair/claim -> 200"),
    (
        "conformance/config_etag.yaml",
        "etag_string_compare",
        "invariant not_modified_headers (SPEC §4.2): 304 for /api/v1/esp32/config without etag",
    ),
    ("conformance/firmware_range.yaml", "no_suffix_range", ".bin -> 200 (step 11 `http` at"),
    # The age probe (its step) is where it breaks: a 14-year-old's upgrade is accepted.
    (
        "security/websocket_refusals_in_order.yaml",
        "dashboard_age_limit",
        "GET /api/v1/esp32/private/chat -> 101 (step 9 `http` at",
    ),
)


@pytest.mark.emu
@pytest.mark.parametrize(
    "name",
    [
        "conformance/config_etag.yaml",
        "conformance/firmware_range.yaml",
        "security/claim_refusals.yaml",
        "security/refresh_reuse_revokes_session.yaml",
        "security/legacy_paths.yaml",
        "security/websocket_refusals_in_order.yaml",
    ],
)
async def test_probe_scenarios_hold_on_the_reference_server(name: str, tmp_path: Path) -> None:
    result = await run_on_emulator(name, tmp_path)
    assert result.status is Status.PASSED, result.detail
