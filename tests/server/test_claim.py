"""Claim endpoint: every status of SPEC §2.4 in its documented order."""

from __future__ import annotations

import pytest

from server.provision import apply_provisioning, parse_provisioning
from tests.server.helpers import Harness, claim_body, error_code

pytestmark = pytest.mark.unit

CLAIM = "/api/v1/pair/claim"


def test_claim_ok_returns_every_field(dev: Harness) -> None:
    response = dev.client.post(CLAIM, json=claim_body())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert {"access_token", "refresh_token", "device_session_id", "refresh_expires_in"} <= set(body)
    assert body["child_profile"] == {
        "id": "child-001",
        "name": "Friend",
        "age": 7,
        "language": "en",
    }
    config = body["device_config"]
    assert config["websocket_url"] == "ws://testserver/api/v1/esp32/private/chat"
    assert config["heartbeat_interval"] == 30
    assert config["max_message_size"] == 16384
    assert config["audio"] == {
        "format": "pcm_s16le",
        "sample_rate": 16000,
        "channels": 1,
        "chunk_bytes": 4096,
    }
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-correlation-id"]


def test_replayed_nonce_is_409(dev: Harness) -> None:
    body = claim_body()
    assert dev.client.post(CLAIM, json=body).status_code == 200
    again = dev.client.post(CLAIM, json=body)
    assert again.status_code == 409
    assert error_code(again) == "nonce_reused"


def test_nonce_window_expires_after_300_s(dev: Harness) -> None:
    body = claim_body()
    assert dev.client.post(CLAIM, json=body).status_code == 200
    dev.clock.advance(301)
    assert dev.client.post(CLAIM, json=body).status_code == 200


def test_wrong_hmac_is_401_and_does_not_burn_the_nonce(dev: Harness) -> None:
    body = claim_body()
    bad = {**body, "hmac_hex": "0" * 64}
    response = dev.client.post(CLAIM, json=bad)
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"
    # Original defect 4: the nonce was spent before the HMAC check, so this gave 409.
    assert dev.client.post(CLAIM, json=body).status_code == 200


def test_hmac_is_compared_case_insensitively(dev: Harness) -> None:
    body = claim_body()
    body["hmac_hex"] = str(body["hmac_hex"]).upper()
    assert dev.client.post(CLAIM, json=body).status_code == 200


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_timestamp_is_401(dev: Harness, skew: int) -> None:
    response = dev.client.post(CLAIM, json=claim_body(timestamp=int(dev.clock.now) + skew))
    assert response.status_code == 401
    assert error_code(response) == "stale_timestamp"


def test_timestamp_within_window_is_accepted(dev: Harness) -> None:
    body = claim_body(timestamp=int(dev.clock.now) - 299)
    assert dev.client.post(CLAIM, json=body).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("device_id", "short"),
        ("device_id", "Teddy ESP32 001!"),
        ("child_id", ""),
        ("nonce", "abc"),
        ("nonce", "z" * 32),
        ("nonce", "a" * 33),
        ("hmac_hex", "f" * 63),
        ("timestamp", "yesterday"),
    ],
)
def test_invalid_field_is_422_naming_it(dev: Harness, field: str, value: object) -> None:
    body = {**claim_body(), field: value}
    response = dev.client.post(CLAIM, json=body)
    assert response.status_code == 422
    assert error_code(response) == "invalid_request"
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_missing_fields_are_all_reported(dev: Harness) -> None:
    response = dev.client.post(CLAIM, json={})
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"device_id", "child_id", "nonce", "hmac_hex"} <= fields


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_malformed_body_is_400(dev: Harness, raw: bytes) -> None:
    response = dev.client.post(CLAIM, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert error_code(response) == "malformed_json"


def test_oversize_body_is_413(dev: Harness) -> None:
    body = {**claim_body(), "padding": "x" * 70_000}
    response = dev.client.post(CLAIM, json=body)
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def test_rate_limit_per_device_is_429_with_retry_after(dev: Harness) -> None:
    for _ in range(10):
        assert dev.client.post(CLAIM, json=claim_body()).status_code == 200
    dev.clock.advance(15)
    limited = dev.client.post(CLAIM, json=claim_body())
    assert limited.status_code == 429
    assert error_code(limited) == "rate_limited"
    assert int(limited.headers["retry-after"]) == 45
    # Other devices are not affected; after the window the device may claim again.
    assert dev.client.post(CLAIM, json=claim_body("Teddy-ESP32-002")).status_code == 200
    dev.clock.advance(46)
    assert dev.client.post(CLAIM, json=claim_body()).status_code == 200


def test_rate_limit_applies_before_the_hmac_check(dev: Harness) -> None:
    for _ in range(10):
        dev.client.post(CLAIM, json={**claim_body(), "hmac_hex": "1" * 64})
    assert dev.client.post(CLAIM, json=claim_body()).status_code == 429


def test_unknown_device_in_production_is_404(prod: Harness) -> None:
    response = prod.client.post(CLAIM, json=claim_body())
    assert response.status_code == 404
    assert error_code(response) == "device_not_found"


def test_non_teddy_device_in_development_is_404(dev: Harness) -> None:
    response = dev.client.post(CLAIM, json=claim_body("other-device-01"))
    assert response.status_code == 404


def _provision(h: Harness, doc: dict[str, object]) -> None:
    apply_provisioning(h.state.store, parse_provisioning(doc), now=h.clock.now)


def test_production_claim_with_provisioned_device_and_child(prod: Harness) -> None:
    secret = "AB" * 32
    _provision(
        prod,
        {
            "devices": [{"device_id": "Lab-Board-0001", "oob_secret": secret}],
            "children": [{"child_id": "mia", "name": "Mia", "age": 6, "consent": True}],
        },
    )
    response = prod.client.post(CLAIM, json=claim_body("Lab-Board-0001", "mia", oob=secret))
    assert response.status_code == 200, response.text
    assert response.json()["child_profile"] == {
        "id": "mia",
        "name": "Mia",
        "age": 6,
        "language": "en",
    }
    # Device ids compare case-insensitively (SPEC §1.3); the HMAC covers the id as sent.
    upper = claim_body("LAB-BOARD-0001", "mia", oob=secret)
    assert prod.client.post(CLAIM, json=upper).status_code == 200


def test_unknown_child_in_production_is_404(prod: Harness) -> None:
    _provision(prod, {"devices": [{"device_id": "Teddy-ESP32-001"}]})
    response = prod.client.post(CLAIM, json=claim_body())
    assert response.status_code == 404
    assert error_code(response) == "child_not_found"


def test_child_without_consent_is_403(dev: Harness) -> None:
    _provision(dev, {"children": [{"child_id": "child-001", "age": 5, "consent": False}]})
    response = dev.client.post(CLAIM, json=claim_body())
    assert response.status_code == 403
    assert error_code(response) == "consent_required"


def test_disabled_device_is_403(dev: Harness) -> None:
    _provision(dev, {"devices": [{"device_id": "Teddy-ESP32-001", "enabled": False}]})
    response = dev.client.post(CLAIM, json=claim_body())
    assert response.status_code == 403
    assert error_code(response) == "device_disabled"


def test_wrong_method_is_405_with_allow(dev: Harness) -> None:
    response = dev.client.get(CLAIM)
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert "POST" in response.headers["allow"]


def test_unknown_path_is_404_with_error_body(dev: Harness) -> None:
    response = dev.client.get("/api/v1/esp32/api/v1/esp32/config")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_server_keeps_serving_after_malformed_requests(dev: Harness) -> None:
    for raw in (b"", b"null", b"{", b'{"device_id": 5}'):
        dev.client.post(CLAIM, content=raw)
    assert dev.client.post(CLAIM, json=claim_body()).status_code == 200


def test_unexpected_failure_is_500_and_the_server_keeps_serving(
    dev: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dev.state.store, "create_session", broken)
    response = dev.client.post(CLAIM, json=claim_body())
    assert response.status_code == 500
    assert error_code(response) == "internal_error"
    assert "disk on fire" not in response.text  # no internals leak to devices
    monkeypatch.undo()
    assert dev.client.post(CLAIM, json=claim_body()).status_code == 200
