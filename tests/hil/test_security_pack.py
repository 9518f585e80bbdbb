"""The security pack (scenarios/security/): every refusal it checks names a status and the
SPEC code for it, and its JWT scenarios pass on the reference server and fail on servers
that take `alg: none`, an `aud` list, a future `nbf` or a token of the wrong type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest

from hil.result import Status
from server import tokens
from tests.hil.conftest import run_on_emulator

Decode = Callable[..., dict[str, Any]]
REAL_DECODE: Decode = jwt.decode


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
