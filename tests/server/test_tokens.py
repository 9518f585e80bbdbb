"""Token issue, verification and refresh rotation with reuse detection (SPEC §3)."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest

from server.tokens import AUDIENCE, TokenError, TokenService, TokenType, load_or_create_key
from tests.server.helpers import Harness, claim_body, error_code, make_harness

pytestmark = pytest.mark.unit

CLAIM = "/api/v1/pair/claim"
REFRESH = "/api/v1/pair/token/refresh"


def _claim(h: Harness) -> dict[str, str]:
    response = h.client.post(CLAIM, json=claim_body())
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_access_token_carries_every_claim(dev: Harness) -> None:
    body = _claim(dev)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "device:teddy-esp32-001:child:child-001"
    assert claims["device_id"] == "teddy-esp32-001"
    assert claims["child_id"] == "child-001"
    assert claims["session_id"] == body["device_session_id"]
    assert claims["type"] == "device_access"
    assert claims["aud"] == "teddy-api"
    assert claims["iss"] == "teddy-device-system"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


def test_refresh_rotates_and_refuses_reuse(dev: Harness) -> None:
    first = _claim(dev)["refresh_token"]
    rotated = dev.client.post(REFRESH, json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    assert second != first
    assert rotated.headers["cache-control"] == "no-store"
    reused = dev.client.post(REFRESH, json={"refresh_token": first})
    assert reused.status_code == 401
    assert error_code(reused) == "refresh_token_reused"
    # Reuse revoked the family: the legitimately rotated token is dead too.
    after = dev.client.post(REFRESH, json={"refresh_token": second})
    assert after.status_code == 401
    assert error_code(after) == "invalid_token"


def test_access_token_is_not_a_refresh_token(dev: Harness) -> None:
    access = _claim(dev)["access_token"]
    response = dev.client.post(REFRESH, json={"refresh_token": access})
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_expired_refresh_token_is_401(dev: Harness) -> None:
    refresh = _claim(dev)["refresh_token"]
    dev.clock.advance(7 * 24 * 3600 + 1)
    response = dev.client.post(REFRESH, json={"refresh_token": refresh})
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


@pytest.mark.parametrize("token", ["", "abc.def.ghi", None, 42])
def test_garbage_refresh_token(dev: Harness, token: object) -> None:
    response = dev.client.post(REFRESH, json={"refresh_token": token})
    assert response.status_code in (401, 422)
    assert error_code(response) in ("invalid_token", "invalid_request")


def test_refresh_without_body_field_is_422(dev: Harness) -> None:
    response = dev.client.post(REFRESH, json={})
    assert response.status_code == 422


def _service() -> TokenService:
    return TokenService(key=b"k" * 32, access_ttl_s=60, refresh_ttl_s=120)


def test_wrong_audience_issuer_algorithm_are_refused() -> None:
    service = _service()
    good = jwt.decode(
        service.issue_pair(device_id="d" * 8, child_id="c", session_id="s", now=1000).access_token,
        b"k" * 32,
        algorithms=["HS256"],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    forged = [
        jwt.encode({**good, "aud": "other"}, b"k" * 32, algorithm="HS256"),
        jwt.encode({**good, "iss": "someone"}, b"k" * 32, algorithm="HS256"),
        jwt.encode(good, b"k" * 64, algorithm="HS512"),
        jwt.encode(good, b"other-key" * 4, algorithm="HS256"),
        jwt.encode(
            {k: v for k, v in good.items() if k != "session_id"}, b"k" * 32, algorithm="HS256"
        ),
        jwt.encode({**good, "sub": "device:x:child:y"}, b"k" * 32, algorithm="HS256"),
        jwt.encode(good, "", algorithm="none"),
    ]
    for token in forged:
        with pytest.raises(TokenError):
            service.verify(token, expected=TokenType.ACCESS, now=1001)
    assert (
        service.verify(
            jwt.encode(good, b"k" * 32, algorithm="HS256"), expected=TokenType.ACCESS, now=1001
        ).device_id
        == "d" * 8
    )


@pytest.mark.parametrize("aud", [["teddy-api", "other"], ["teddy-api"], "TEDDY-API"])
def test_audience_is_exactly_the_string_teddy_api(aud: object) -> None:
    """SPEC §3.1 step 3: aud == teddy-api; PyJWT alone takes a list containing it."""
    service = _service()
    token = service.issue_pair(device_id="d" * 8, child_id="c", session_id="s", now=1000)
    good = jwt.decode(token.access_token, options={"verify_signature": False})
    forged = jwt.encode({**good, "aud": aud}, b"k" * 32, algorithm="HS256")
    with pytest.raises(TokenError) as info:
        service.verify(forged, expected=TokenType.ACCESS, now=1001)
    assert info.value.reason == "invalid_token"
    assert "audience" in str(info.value).lower()


def test_expiry_uses_the_injected_clock() -> None:
    service = _service()
    token = service.issue_pair(
        device_id="d" * 8, child_id="c", session_id="s", now=1000
    ).access_token
    assert service.verify(token, expected=TokenType.ACCESS, now=1059).session_id == "s"
    with pytest.raises(TokenError) as info:
        service.verify(token, expected=TokenType.ACCESS, now=1060)
    assert info.value.reason == "token_expired"


def test_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    assert len(key) == 32
    assert load_or_create_key(tmp_path) == key
    mode = stat.S_IMODE((tmp_path / "jwt.key").stat().st_mode)
    assert mode == 0o600
    assert load_or_create_key(tmp_path / "other") != key


def test_tokens_survive_a_server_restart(tmp_path: Path) -> None:
    first = make_harness(tmp_path / "data")
    refresh = _claim(first)["refresh_token"]
    first.state.store.close()
    second = make_harness(tmp_path / "data")
    try:
        assert second.client.post(REFRESH, json={"refresh_token": refresh}).status_code == 200
        # The device registered by the first process is still known.
        assert second.state.store.get_device("teddy-esp32-001") is not None
    finally:
        second.state.store.close()
