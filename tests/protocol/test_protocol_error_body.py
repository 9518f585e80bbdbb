"""SPEC §1.2 error body: what servers write, and what devices read back from any body."""

from __future__ import annotations

import json

import pytest

from protocol.error_body import ErrorBody, ErrorDetail, error_code_of

pytestmark = pytest.mark.unit


def test_body_has_details_only_when_given_and_correlation_id_last() -> None:
    plain = ErrorBody("nonce_reused", "send a fresh nonce", "c-1").to_json()
    assert plain == {
        "error": {"code": "nonce_reused", "message": "send a fresh nonce", "correlation_id": "c-1"}
    }
    detailed = ErrorBody("invalid_request", "bad", "c-2", [ErrorDetail("nonce", "odd_length")])
    error = detailed.to_json()["error"]
    assert isinstance(error, dict)
    assert list(error) == ["code", "message", "details", "correlation_id"]
    assert error["details"] == [{"field": "nonce", "reason": "odd_length"}]


def test_a_device_reads_the_code_back() -> None:
    body = json.dumps(ErrorBody("rate_limited", "later", "c").to_json()).encode()
    assert error_code_of(body, status=429) == "rate_limited"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>502 Bad Gateway</html>",
        b"\xff\xfe",
        b'{"error": "flat string"}',
        b'{"error": {"code": 7}}',
        b'{"error": {"code": ""}}',
        b"[1, 2]",
        b'{"error": {"code": "a"}, "error": {"code": "b"}}',  # duplicate keys are refused
    ],
)
def test_a_body_of_another_shape_gives_the_status(body: bytes) -> None:
    assert error_code_of(body, status=502) == "http_502"
