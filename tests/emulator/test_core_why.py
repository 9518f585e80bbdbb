"""The core's failure events say why (SPEC §8.2), and the claim's child profile (SPEC §9.2).

Unit tests of emulator.core against answers a third-party server in the original style
gives; the shared device traces (claim_says_why, link_says_why, claim_child_profile)
pin the same behaviour byte for byte on both cores.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator.core.boot import BuildConfig
from emulator.core.effects import HttpRequest, WsConnect
from emulator.core.inputs import HttpFailed, TimerFired, WsClosed, WsRefused
from protocol.device_model import SERVER_TEXT_MAX_BYTES
from tests.emulator.core_driver import SERVER, WS_URL, Driver, claim_body, error_body

pytestmark = pytest.mark.unit

DEVICE_404 = b'{"error":{"code":"HTTP_404","message":"Device not registered or not found"}}'
CHILD_404 = b'{"detail":"Child profile not found or inactive"}'
REFRESHED = json.dumps(
    {
        "access_token": "a2",
        "refresh_token": "r2",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_expires_in": 604800,
    }
).encode()


def _query(connect: WsConnect) -> dict[str, list[str]]:
    return parse_qs(urlsplit(connect.url).query)


def _profile_claim(name: str, age: int) -> bytes:
    body = json.loads(claim_body())
    body["child_profile"].update(name=name, age=age)
    return json.dumps(body).encode()


def test_two_original_404s_give_two_reasons() -> None:
    d = Driver()
    d.to_claim()
    d.answer(404, DEVICE_404)
    d.line("claim")
    d.answer(404, CHILD_404)
    first, second = d.named("claim.fail")
    assert first["code"] == "HTTP_404"
    assert first["message"] == "Device not registered or not found"
    assert second["code"] == "http_404"
    assert second["message"] == "Child profile not found or inactive"
    assert first["retry_in_ms"] == second["retry_in_ms"] == 0  # SPEC §2.6: 404 stops


def test_a_claim_200_that_does_not_parse_names_the_field() -> None:
    d = Driver()
    d.to_claim()
    body = json.loads(claim_body())
    body["device_config"]["websocket_url"] = "/ws/esp32/connect"  # the original's (defect 18)
    d.answer(200, json.dumps(body).encode())
    fail = d.named("claim.fail")[0]
    assert fail["code"] == "bad_response" and fail["field"] == "device_config.websocket_url"
    assert fail["message"] == "device_config.websocket_url: not_url"
    assert fail["retry_in_ms"] != 0


@pytest.mark.parametrize(
    "body", [b"\x00\xff" * 40_000, ("\u2028\n\x1b[31m" + "é" * 500).encode(), b"[" * 5000]
)
def test_hostile_bodies_give_one_bounded_line(body: bytes) -> None:
    d = Driver()
    d.to_claim()
    d.answer(500, body)
    fail = d.named("claim.fail")[0]
    message = str(fail["message"])
    assert fail["code"] == "http_500"
    assert len(message.encode("utf-8")) <= SERVER_TEXT_MAX_BYTES
    assert not any(ch in message for ch in "\n\r\x1b\u2028")


def test_refresh_401_drops_the_tokens_and_says_it_claims() -> None:
    d = Driver()
    connect = d.to_ws()
    d.feed(WsRefused(connect.conn_id, 403, error_body("token_expired")))
    d.answer(401, error_body("invalid_token"))
    assert d.named("token.refresh.fail") == [
        {
            "status": 401,
            "code": "invalid_token",
            "next": "claim",
            "retry_in_ms": 0,
            "message": "invalid_token",
            "field": "",
        }
    ]
    assert d.last(HttpRequest).url == SERVER + "/api/v1/pair/claim"


def test_refresh_5xx_and_transport_say_when_they_retry() -> None:
    d = Driver()
    connect = d.to_ws()
    d.feed(WsRefused(connect.conn_id, 403, error_body("token_expired")))
    d.answer(503, error_body("internal_error"))
    fail = d.named("token.refresh.fail")[0]
    assert (fail["status"], fail["code"], fail["next"]) == (503, "internal_error", "retry")
    assert d.timer("auth_retry").at_ms == d.now + int(str(fail["retry_in_ms"]))
    d2 = Driver()
    connect = d2.to_ws()
    d2.feed(WsRefused(connect.conn_id, 403, error_body("invalid_token")))
    d2.feed(HttpFailed(d2.last(HttpRequest).req_id, "timeout"))
    fail = d2.named("token.refresh.fail")[0]
    assert (fail["status"], fail["code"], fail["next"], fail["message"]) == (
        0,
        "transport",
        "retry",
        "timeout",
    )


def test_a_third_party_refusal_reports_url_status_and_text() -> None:
    d = Driver()
    connect = d.to_ws()
    d.feed(WsRefused(connect.conn_id, 404, b"<html><body>Not Found</body></html>"))
    assert d.named("ws.refused") == [
        {
            "url": WS_URL,
            "status": 404,
            "reason": "http_404",
            "message": "<html><body>Not Found</body></html>",
        }
    ]
    d.answer(200, REFRESHED)  # SPEC §6.1: no readable reason -> refresh once first
    d.feed(WsClosed(d.last(WsConnect).conn_id, 1006, "connection_lost"))
    assert d.named("ws.close")[-1]["url"] == WS_URL


def test_the_claims_child_profile_is_the_query_default() -> None:
    d = Driver()
    d.to_claim()
    d.answer(200, _profile_claim("Sam Lee", 9))
    query = _query(d.last(WsConnect))
    assert (query["child_name"], query["child_age"]) == (["Sam Lee"], ["9"])
    assert d.device.ctx.nvs["auth"]["child_name"] == "Sam Lee"
    assert d.device.ctx.nvs["auth"]["child_age"] == 9


def test_a_built_in_name_and_age_win_over_the_claim_and_set_wins_over_both() -> None:
    build = BuildConfig(server_url=SERVER, device_id="Teddy-ESP32-0001", child_name="Mia")
    d = Driver(build=build)
    d.to_claim()
    d.answer(200, _profile_claim("Sam Lee", 9))
    query = _query(d.last(WsConnect))
    assert (query["child_name"], query["child_age"]) == (["Mia"], ["9"])
    d.line("set child_age 5")
    d.feed(WsClosed(d.last(WsConnect).conn_id, 1011, "internal_error"))
    d.feed(TimerFired("ws_retry", d.timer("ws_retry").at_ms))
    assert _query(d.last(WsConnect))["child_age"] == ["5"]


def test_the_stored_profile_survives_a_reboot_and_claim_forgets_it() -> None:
    first = Driver()
    first.to_claim()
    first.answer(200, _profile_claim("Sam Lee", 9))
    rebooted = Driver(nvs=first.device.ctx.nvs)
    assert rebooted.to_claim().url.endswith("/pair/token/refresh")  # SPEC §3.2 after a boot
    rebooted.answer(200, REFRESHED)
    query = _query(rebooted.last(WsConnect))
    assert (query["child_name"], query["child_age"]) == (["Sam Lee"], ["9"])
    rebooted.line("claim")
    assert "child_name" not in rebooted.device.ctx.nvs.get("auth", {})
