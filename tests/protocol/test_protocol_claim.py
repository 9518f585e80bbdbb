"""protocol.claim: request validation and strict response parsing (SPEC §2.3, §2.5, §3.2)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.claim import (
    ClaimRequest,
    ClaimResponse,
    RefreshRequest,
    RefreshResponse,
    canonical_id,
    is_dev_auto_register,
)
from protocol.errors import FieldError, NotAnObjectError, ValidationError
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

REQUESTS = vector_cases("claim_requests")
RESPONSES = vector_cases("claim_responses")
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def _errors(exc: ValidationError) -> set[tuple[str, str]]:
    return {(e.field, e.reason) for e in exc.errors}


def _expected(case: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["reason"]) for e in case["expect"]["errors"]}


@pytest.mark.parametrize("case", REQUESTS, ids=[c["id"] for c in REQUESTS])
def test_claim_request_vector(case: dict[str, Any]) -> None:
    expect = case["expect"]
    if expect["status"] == "valid":
        assert ClaimRequest.from_json(case["body"]).to_json() == expect["request"]
    elif expect["status"] == 400:
        with pytest.raises(NotAnObjectError):
            ClaimRequest.from_json(case["body"])
    else:
        with pytest.raises(ValidationError) as info:
            ClaimRequest.from_json(case["body"])
        assert not isinstance(info.value, NotAnObjectError)
        assert _errors(info.value) == _expected(case)


@pytest.mark.parametrize("case", RESPONSES, ids=[c["id"] for c in RESPONSES])
def test_claim_response_vector(case: dict[str, Any]) -> None:
    if case["expect"]["status"] == "valid":
        parsed = ClaimResponse.from_json(case["body"])
        known = {k: v for k, v in case["body"].items() if k != "pairing_code"}
        assert parsed.to_json() == known
    else:
        with pytest.raises(ValidationError) as info:
            ClaimResponse.from_json(case["body"])
        assert _errors(info.value) == _expected(case)


def test_validation_error_message_names_every_field() -> None:
    with pytest.raises(ValidationError) as info:
        ClaimRequest.from_json({})
    text = str(info.value)
    for field in ("device_id", "child_id", "nonce", "hmac_hex"):
        assert f"{field}: required" in text
    assert FieldError("nonce", "required").to_json() == {"field": "nonce", "reason": "required"}


def test_not_an_object_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        ClaimResponse.from_json([])
    assert isinstance(info.value, NotAnObjectError)
    assert "(body): must_be_object" in str(info.value)


def test_refresh_round_trip_and_errors() -> None:
    assert RefreshRequest.from_json({"refresh_token": "r"}).to_json() == {"refresh_token": "r"}
    with pytest.raises(ValidationError) as info:
        RefreshRequest.from_json({"refresh_token": ""})
    assert _errors(info.value) == {("refresh_token", "too_short")}
    body = RefreshResponse("a", "r").to_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert RefreshResponse.from_json(body) == RefreshResponse("a", "r")
    with pytest.raises(ValidationError) as info:
        RefreshResponse.from_json({**body, "expires_in": 0, "access_token": None})
    assert _errors(info.value) == {
        ("expires_in", "out_of_range"),
        ("access_token", "must_be_string"),
    }


def test_canonical_ids() -> None:
    assert canonical_id("Teddy-ESP32-A795BAA4") == "teddy-esp32-a795baa4"
    assert is_dev_auto_register("TEDDY-esp32-0001")
    assert not is_dev_auto_register("esp32-0001")


@given(
    device_id=st.text(alphabet=ID_ALPHABET, min_size=8, max_size=64),
    child_id=st.text(alphabet=ID_ALPHABET, min_size=1, max_size=64),
    nonce=st.binary(min_size=16, max_size=32),
    mac=st.binary(min_size=32, max_size=32),
    firmware_version=st.none() | st.from_regex(r"[A-Za-z0-9._+-]{1,32}", fullmatch=True),
    timestamp=st.none() | st.integers(min_value=0, max_value=2**40),
)
def test_claim_request_round_trip(
    device_id: str,
    child_id: str,
    nonce: bytes,
    mac: bytes,
    firmware_version: str | None,
    timestamp: int | None,
) -> None:
    request = ClaimRequest(device_id, child_id, nonce.hex(), mac.hex(), firmware_version, timestamp)
    assert ClaimRequest.from_json(request.to_json()) == request
    shouted = {**request.to_json(), "nonce": nonce.hex().upper(), "hmac_hex": mac.hex().upper()}
    assert ClaimRequest.from_json(shouted) == request
