"""The security pack (scenarios/security/): every refusal it checks names a status and the
SPEC code for it, and its JWT scenarios pass on the reference server and fail on servers
that take `alg: none`, an `aud` list, a future `nbf` or a token of the wrong type.

The codes each status may carry are read from SPEC itself: the §1.2 table (status,
`code`) and the §6.1 refusal reasons, which go with 403 at the chat upgrade; the §6.1
table is held to `protocol.constants.HANDSHAKE_REFUSAL_REASONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jwt
import pytest

from hil.result import Status
from hil.scenario.loader import load_scenario
from hil.scenario.model import Scenario, Step
from hil.steps.kinds.expect_wire import ExpectWire
from hil.steps.kinds.http import Http
from hil.tap.records import RESPONSE
from protocol.constants import CHAT_PATH, HANDSHAKE_REFUSAL_REASONS
from server import claim_service, state, tokens
from server.limits import MemorySlidingWindowLimiter, RateDecision
from tests.hil.conftest import REPO, WriteFile, run_on_emulator

Decode = Callable[..., dict[str, Any]]
REAL_DECODE: Decode = jwt.decode


SPEC = resources.files("protocol").joinpath("SPEC.md").read_text(encoding="utf-8")
UPGRADE_REFUSAL_STATUS = 403  # SPEC §6.1: the §1.2 body with the reason as its code


def _section(title: str) -> str:
    start = SPEC.index(f"### {title}")
    return SPEC[start : SPEC.index("\n### ", start + 1)]


def _table_codes(text: str) -> list[tuple[str, str]]:
    """(first cell, first `code` of the second cell) of every table row of `text`."""
    rows = re.findall(r"^\| *([^|]+?) *\| *`([a-z_]+)` *\|", text, flags=re.MULTILINE)
    return [(first, code) for first, code in rows if first[0].isdigit()]


def spec_codes() -> dict[int, set[str]]:
    """Status -> the error codes SPEC defines for it."""
    codes: dict[int, set[str]] = {}
    for status, code in _table_codes(_section("1.2 Error body")):
        codes.setdefault(int(status), set()).add(code)
    reasons = {code for _, code in _table_codes(_section("6.1 Handshake"))}
    assert reasons == set(HANDSHAKE_REFUSAL_REASONS), "SPEC §6.1 and protocol.constants differ"
    codes.setdefault(UPGRADE_REFUSAL_STATUS, set()).update(reasons)
    return codes


def _statuses(status: object, known: dict[int, set[str]]) -> list[int]:
    if isinstance(status, int):
        return [status]
    return [s for s in known if isinstance(status, str) and re.fullmatch(status, str(s))]


def _bare_upgrade(action: Http) -> bool:
    """SPEC §1: an upgrade to a path with no WebSocket is a bare 403, without a body."""
    upgrade = {k.lower(): v for k, v in action.request.headers.items()}.get("upgrade", "")
    return upgrade.lower() == "websocket" and action.request.path != CHAT_PATH


def _refusals(scenario: Scenario) -> list[tuple[Step, object, Mapping[str, object]]]:
    """(step, expected status, expected body) of every `http` probe and of every
    `expect_wire` on a response: the harness's own refusals and the server's answers to
    the device (a device quirk's scenario checks those)."""
    found: list[tuple[Step, object, Mapping[str, object]]] = []
    for step in scenario.steps:
        action = step.action
        if isinstance(action, Http) and not _bare_upgrade(action):
            found.append((step, action.expect.status, action.expect.body))
        elif isinstance(action, ExpectWire) and action.pattern.kind == RESPONSE:
            found.append((step, action.pattern.status, action.pattern.body))
    return found


def refusal_problems(scenario: Scenario, known: dict[int, set[str]]) -> list[str]:
    """Every refusal (a status >= 400) it expects checks error.code, a code SPEC gives it."""
    problems: list[str] = []
    for step, status, body in _refusals(scenario):
        statuses = _statuses(status, known)
        if status is None:
            if isinstance(step.action, Http):
                problems.append(f"{step.loc}: no status checked")
            continue
        if not any(s >= 400 for s in statuses):
            continue
        code = body.get("error.code")
        allowed = set().union(*(known.get(s, set()) for s in statuses))
        if not isinstance(code, str):
            problems.append(f"{step.loc}: status {status} without error.code")
        elif code not in allowed:
            problems.append(
                f"{step.loc}: {code!r} is not a SPEC code for {status} (SPEC: {sorted(allowed)})"
            )
    return problems


@pytest.mark.unit
@pytest.mark.parametrize(
    "path", sorted((REPO / "scenarios" / "security").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_refusal_checks_status_and_a_spec_code(path: Path) -> None:
    assert refusal_problems(load_scenario(path), spec_codes()) == []


@pytest.mark.unit
def test_the_spec_code_table_is_read() -> None:
    codes = spec_codes()
    assert codes[401] == {
        "invalid_signature",
        "stale_timestamp",
        "invalid_token",
        "refresh_token_reused",
        "harness_unauthorized",
    }
    assert {"device_disabled", "missing_token", "token_expired"} <= codes[403]
    assert codes[429] == {"rate_limited"}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("expect", "problem"),
    [
        ("{status: 401}", "status 401 without error.code"),
        ("{status: 403, body: {error.code: nonce_reused}}", "'nonce_reused' is not a SPEC code"),
        ("{status: 401, body: {error.code: token_expired}}", "is not a SPEC code for 401"),
        ("{body: {error.code: invalid_token}}", "no status checked"),
        ("{status: '40[13]'}", "without error.code"),
    ],
)
def test_a_refusal_without_its_spec_code_is_found(
    write: WriteFile, expect: str, problem: str
) -> None:
    path = write(
        "security/x.yaml",
        f"version: 1\nname: t\ndescription: d\nsteps:\n  - http: {{path: /a, expect: {expect}}}\n",
    )
    (found,) = refusal_problems(load_scenario(path), spec_codes())
    assert problem in found and "x.yaml:5" in found


async def _fails(name: str, artifacts: Path) -> str:
    """Run `scenarios/<name>` on the emulator; it must fail: the one-line reason."""
    result = await run_on_emulator(name, artifacts)
    assert result.status is Status.FAILED, result.detail
    print(f"{name}: {result.reason}")  # the report quotes these (pytest -s)
    return result.reason


def _patch_decode(monkeypatch: pytest.MonkeyPatch, decode: Decode) -> None:
    monkeypatch.setattr(jwt, "decode", decode)  # server.tokens calls jwt.decode


@pytest.mark.emu
@pytest.mark.parametrize("name", ["jwt_forged_signatures.yaml", "jwt_claims.yaml"])
async def test_the_jwt_pack_holds_on_the_reference_server(name: str, tmp_path: Path) -> None:
    result = await run_on_emulator(f"security/{name}", tmp_path)
    assert result.status is Status.PASSED, result.detail


@pytest.mark.emu
async def test_a_server_that_takes_alg_none_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def none_is_fine(token: str, key: bytes, **kwargs: Any) -> dict[str, Any]:
        if str(jwt.get_unverified_header(token).get("alg")).lower() == "none":
            kwargs["options"] = {**kwargs.get("options", {}), "verify_signature": False}
        return REAL_DECODE(token, key, **kwargs)

    _patch_decode(monkeypatch, none_is_fine)
    reason = await _fails("security/jwt_forged_signatures.yaml", tmp_path)
    assert "GET /api/v1/esp32/private/chat -> 101 (step 13 `http` (none_lower)" in reason


@pytest.mark.emu
@pytest.mark.filterwarnings("ignore:The HMAC key is")  # the short key is the defect
async def test_a_server_with_the_originals_fallback_key_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defect 7: one constant key for every installation instead of 256 random bits.
    monkeypatch.setattr(state, "load_or_create_key", lambda data_dir: b"fallback-secret")
    reason = await _fails("security/jwt_forged_signatures.yaml", tmp_path)
    assert "GET /api/v1/esp32/private/chat -> 101" in reason and "(key_fallback)" in reason


@pytest.mark.emu
async def test_a_server_that_takes_an_aud_list_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reference server before this pack: PyJWT's own audience check only.
    monkeypatch.setattr(tokens, "audience_ok", lambda aud: True)
    reason = await _fails("security/jwt_claims.yaml", tmp_path)
    assert "GET /api/v1/esp32/private/chat -> 101" in reason and "(aud_list)" in reason


@pytest.mark.emu
async def test_a_server_that_ignores_nbf_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_nbf(token: str, key: bytes, **kwargs: Any) -> dict[str, Any]:
        kwargs["options"] = {**kwargs.get("options", {}), "verify_nbf": False}
        return REAL_DECODE(token, key, **kwargs)

    _patch_decode(monkeypatch, no_nbf)
    reason = await _fails("security/jwt_claims.yaml", tmp_path)
    assert "GET /api/v1/esp32/private/chat -> 101" in reason and "(nbf_ahead)" in reason


@pytest.mark.emu
async def test_a_refresh_endpoint_that_takes_any_type_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify = tokens.TokenService.verify

    def any_type(
        self: tokens.TokenService, token: str, *, expected: tokens.TokenType, now: float
    ) -> tokens.TokenClaims:
        kind = str(jwt.decode(token, options={"verify_signature": False}).get("type"))
        return verify(self, token, expected=tokens.TokenType(kind), now=now)

    monkeypatch.setattr(tokens.TokenService, "verify", any_type)
    reason = await _fails("security/jwt_claims.yaml", tmp_path)
    assert "GET /api/v1/esp32/private/chat -> 101" in reason and "(as_refresh)" in reason


@pytest.mark.emu
@pytest.mark.parametrize("name", ["claim_lockout.yaml", "claim_per_ip_limit.yaml"])
async def test_the_claim_limits_hold_on_the_reference_server(name: str, tmp_path: Path) -> None:
    result = await run_on_emulator(f"security/{name}", tmp_path)
    assert result.status is Status.PASSED, result.detail


def _limiter_without(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    hit = MemorySlidingWindowLimiter.hit

    def unlimited(self: MemorySlidingWindowLimiter, *, key: str, **kwargs: Any) -> RateDecision:
        return RateDecision(True) if key.startswith(prefix) else hit(self, key=key, **kwargs)

    monkeypatch.setattr(MemorySlidingWindowLimiter, "hit", unlimited)


@pytest.mark.emu
async def test_a_server_without_a_device_limit_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limiter_without(monkeypatch, "dev:")
    reason = await _fails("security/claim_lockout.yaml", tmp_path)
    assert (
        "POST /api/v1/pair/claim -> 401" in reason
        and "(step 10 `http` at scenarios/security/claim_lockout.yaml:" in reason
    )


@pytest.mark.emu
async def test_a_server_without_an_ip_limit_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limiter_without(monkeypatch, "ip:")
    reason = await _fails("security/claim_per_ip_limit.yaml", tmp_path)
    assert (
        "POST /api/v1/pair/claim -> 401" in reason
        and "(step 10 `http` at scenarios/security/claim_per_ip_limit.yaml:" in reason
    )


@pytest.mark.emu
async def test_a_429_without_a_usable_retry_after_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hit = MemorySlidingWindowLimiter.hit

    def retry_now(self: MemorySlidingWindowLimiter, **kwargs: Any) -> RateDecision:
        decision = hit(self, **kwargs)
        return decision if decision.allowed else RateDecision(False, retry_after_s=0)

    monkeypatch.setattr(MemorySlidingWindowLimiter, "hit", retry_now)
    result = await run_on_emulator("security/claim_lockout.yaml", tmp_path)
    assert result.status is Status.FAILED
    assert "POST /api/v1/pair/claim -> 429" in result.reason
    assert "retry-after" in result.detail.lower() and "'0'" in result.detail


@pytest.mark.emu
async def test_a_server_that_takes_future_timestamps_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The common mistake: only "not older than 300 s" (abs() left out of step 7).
    monkeypatch.setattr(claim_service, "abs", lambda delta: -delta, raising=False)
    reason = await _fails("security/claim_lockout.yaml", tmp_path)
    assert "POST /api/v1/pair/claim -> 409" in reason  # the timestamp passed: the nonce


@pytest.mark.unit
def test_an_answer_to_the_device_without_its_spec_code_is_found(write: WriteFile) -> None:
    step = "expect_wire: {response: {path: /api/v1/pair/claim, status: 409}}"
    path = write("security/y.yaml", f"version: 1\nname: t\ndescription: d\nsteps:\n  - {step}\n")
    (found,) = refusal_problems(load_scenario(path), spec_codes())
    assert "status 409 without error.code" in found and "y.yaml:5" in found
