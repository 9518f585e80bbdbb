"""`http` probes (hil.probe): refused at load when malformed; on real runs, the security
scenarios pass on the reference server and fail on servers with the original's defects
(a chat that takes any upgrade, defect 8; a token-minting legacy path, defect 7; no refresh
token reuse detection)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi import WebSocket
from fastapi.routing import APIRoute

from hil.errors import ScenarioLoadError
from hil.result import Status
from hil.scenario.loader import load_scenario
from server import http_range
from server.limits import MemoryNonceStore
from server.routes import chat, chat_connection, common, files, pairing
from server.speech.interfaces import ChildContext
from server.store import Store
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


async def _failure(name: str, artifacts: Path) -> str:
    """Run `name` on the emulator; it must fail: the one-line reason."""
    result = await run_on_emulator(name, artifacts)
    assert result.status is Status.FAILED, result.detail
    return result.reason


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


@pytest.mark.emu
async def test_a_chat_that_takes_any_upgrade_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def anyone(state: object, websocket: WebSocket) -> chat_connection.Peer:  # defect 8
        query = websocket.query_params
        child = ChildContext(name="Friend", age=7)
        return chat_connection.Peer(query.get("device_id", "").lower(), child, "no-session")

    monkeypatch.setattr(chat, "check_handshake", anyone)
    result = await run_on_emulator("security/websocket_refusals.yaml", tmp_path)
    assert result.status is Status.FAILED
    assert "-> 101" in result.detail and "status: 101 is not 403" in result.detail


@pytest.mark.emu
async def test_a_token_minting_legacy_path_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def mint() -> dict[str, str]:  # defect 7: ignores the old token
        return {"access_token": "minted"}

    legacy = APIRoute("/api/v1/esp32/token/refresh", mint, methods=["POST"])
    monkeypatch.setattr(pairing.router, "routes", [*pairing.router.routes, legacy])
    reason = await _failure("security/legacy_paths.yaml", tmp_path)
    assert "POST /api/v1/esp32/token/refresh -> 200" in reason


@pytest.mark.emu
async def test_refresh_reuse_detection_holds_and_its_absence_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = await run_on_emulator("security/refresh_reuse_revokes_session.yaml", tmp_path / "ok")
    assert held.status is Status.PASSED, held.detail

    def every_token_fresh(self: Store, *, jti: str, session_id: str, now: float) -> bool:
        return True  # no reuse detection: a stolen refresh token mints tokens forever

    monkeypatch.setattr(Store, "use_refresh_token", every_token_fresh)
    reason = await _failure("security/refresh_reuse_revokes_session.yaml", tmp_path / "bad")
    assert "POST /api/v1/pair/token/refresh -> 200" in reason


@pytest.mark.emu
async def test_a_server_without_replay_protection_fails_the_claim_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def every_nonce_fresh(self: MemoryNonceStore, **_: object) -> bool:
        return True

    monkeypatch.setattr(MemoryNonceStore, "consume", every_nonce_fresh)
    reason = await _failure("security/claim_refusals.yaml", tmp_path)
    assert "POST /api/v1/pair/claim -> 200" in reason


@pytest.mark.emu
@pytest.mark.parametrize("name", ["config_etag.yaml", "firmware_range.yaml"])
async def test_conformance_tables_hold(name: str, tmp_path: Path) -> None:
    result = await run_on_emulator(f"conformance/{name}", tmp_path)
    assert result.status is Status.PASSED, result.detail


@pytest.mark.emu
async def test_if_none_match_compared_as_a_string_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def as_string(header: str | None, etag: str) -> bool:  # the original's comparison (17)
        return header == etag

    monkeypatch.setattr(common, "if_none_match_matches", as_string)
    result = await run_on_emulator("conformance/config_etag.yaml", tmp_path)
    assert result.status is Status.FAILED
    assert "GET /api/v1/esp32/config -> 200" in result.reason  # the weak form, not a 304


@pytest.mark.emu
async def test_a_server_without_suffix_ranges_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = http_range.parse_range

    def no_suffix(header: str | None, size: int) -> http_range.ByteRange | None:
        return None if header is not None and "=-" in header else whole(header, size)

    monkeypatch.setattr(files, "parse_range", no_suffix)
    reason = await _failure("conformance/firmware_range.yaml", tmp_path)
    assert "-> 200" in reason


@pytest.mark.emu
async def test_refusal_order_holds_and_a_dashboard_age_limit_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "security/websocket_refusals_in_order.yaml"
    held = await run_on_emulator(name, tmp_path / "ok")
    assert held.status is Status.PASSED, held.detail
    monkeypatch.setattr(chat, "MAX_CHILD_AGE", 18)  # the original dashboard's 3..18 (defect 23)
    result = await run_on_emulator(name, tmp_path / "bad")
    assert result.status is Status.FAILED
    # The age probe (its step) is where it breaks: accepted, the chat then fails (a 500).
    assert "websocket_refusals_in_order.yaml:26" in result.reason, result.reason
