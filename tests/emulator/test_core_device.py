"""The sans-I/O device core: boot sequence, claim policy, WebSocket reactions, console."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator.core.effects import (
    HttpRequest,
    NvsErase,
    NvsSet,
    SetTimer,
    SyncTime,
    WifiConnect,
    WsClose,
    WsConnect,
    WsSend,
)
from emulator.core.inputs import (
    HttpFailed,
    TimerFired,
    WifiUp,
    WsClosed,
    WsOpened,
    WsRefused,
    WsText,
)
from protocol.crypto import derive_oob_secret, verify_claim_hmac
from tests.emulator.core_driver import TS, WS_URL, Driver, claim_body, error_body, hello_frame

pytestmark = pytest.mark.unit


def test_boot_sequence_up_to_idle() -> None:
    d = Driver()
    assert d.events[0].name == "boot" and isinstance(d.effects[-1], WifiConnect)
    claim = d.to_claim()
    assert any(isinstance(e, SyncTime) for e in d.effects)
    assert d.named("config.ok") == [{"etag": '"e1"', "cached": False}]
    body = json.loads(claim.body or "")
    assert claim.url.endswith("/api/v1/pair/claim") and body["timestamp"] == 1_764_000_000
    assert body["firmware_version"] == "1.0.0" and len(body["nonce"]) == 32
    assert verify_claim_hmac(
        oob_secret_hex=derive_oob_secret("Teddy-ESP32-0001"),
        device_id=body["device_id"],
        child_id=body["child_id"],
        nonce_hex=body["nonce"],
        hmac_hex=body["hmac_hex"],
    )
    effects = d.answer(200, claim_body())
    keys = [e.key for e in effects if isinstance(e, NvsSet)]
    # SPEC §3.2: the refresh token is stored before the access token is used.
    assert keys.index("refresh_token") < keys.index("access_token")
    assert isinstance(effects[-1], WsConnect)
    d.to_idle()
    assert d.device.state == "idle" and d.named("ws.open") == [{"url": WS_URL}]
    check = d.last(HttpRequest)
    assert "/api/v1/esp32/firmware?" in check.url and "chip=esp32" in check.url


def test_websocket_query_is_percent_encoded_with_the_bearer_token() -> None:
    d = Driver()
    d.to_claim()
    d.line("set child_name 'Sam Lee'")
    d.answer(200, claim_body())
    connect = d.last(WsConnect)
    assert "child_name=Sam%20Lee" in connect.url
    query = parse_qs(urlsplit(connect.url).query)
    assert query["child_age"] == ["7"] and query["device_id"] == ["Teddy-ESP32-0001"]
    assert dict(connect.headers)["Authorization"] == "Bearer access-1"


def test_config_304_and_failure_continue_the_boot() -> None:
    d = Driver(nvs={"cfg": {"etag": '"e1"', "body": "{}"}})
    d.feed(WifiUp("10.0.2.15"))
    assert dict(d.last(HttpRequest).headers)["If-None-Match"] == '"e1"'
    d.answer(304, etag='"e1"')
    assert d.named("config.ok") == [{"etag": '"e1"', "cached": True}]
    d2 = Driver()
    d2.feed(WifiUp("10.0.2.15"))
    d2.feed(HttpFailed(d2.last(HttpRequest).req_id, "connect_failed"))
    assert d2.named("config.fail") == [
        {"status": 0, "error": "connect_failed", "message": "connect_failed", "field": ""}
    ]
    assert d2.device.state == "time_sync"


@pytest.mark.parametrize(
    ("status", "code", "headers", "retry"),
    [
        (429, "rate_limited", {"retry-after": "7"}, 7000),
        (409, "nonce_reused", {}, 100),
        (503, "unavailable", {}, 100),
        (401, "invalid_signature", {}, 0),
        (403, "device_disabled", {}, 0),
        (404, "device_not_found", {}, 0),
    ],
)
def test_claim_retry_policy(status: int, code: str, headers: dict[str, str], retry: int) -> None:
    d = Driver()
    d.to_claim()
    d.answer(status, error_body(code), **headers)
    fail = d.named("claim.fail")[0]
    assert (fail["status"], fail["code"], fail["attempt"]) == (status, code, 1)
    assert (fail["message"], fail["field"]) == (code, "")  # SPEC §8.2: the server's message
    if retry == 0:
        assert fail["retry_in_ms"] == 0 and d.device.state == "offline"
        assert not [t for t in d.all(SetTimer) if t.name == "claim_retry"]
    else:
        delay = int(str(fail["retry_in_ms"]))
        assert retry * 0.75 <= delay <= retry * 1.25
        timer = d.timer("claim_retry")
        assert timer.at_ms == d.now + delay
        d.feed(TimerFired("claim_retry", timer.at_ms), after_ms=delay)
        assert d.last(HttpRequest).url.endswith("/pair/claim")
        nonce = json.loads(d.last(HttpRequest).body or "")["nonce"]
        assert len(nonce) == 32


def test_claim_backoff_doubles_and_stale_timestamp_retries_once_without_it() -> None:
    d = Driver()
    d.to_claim()
    for _ in range(3):
        d.answer(500, error_body("internal_error"))
        d.feed(TimerFired("claim_retry", d.timer("claim_retry").at_ms))
    delays = [int(str(f["retry_in_ms"])) for f in d.named("claim.fail")]
    assert [f["attempt"] for f in d.named("claim.fail")] == [1, 2, 3]
    assert 75 <= delays[0] <= 125 and 150 <= delays[1] <= 250 and 300 <= delays[2] <= 500
    d.answer(401, error_body("stale_timestamp"))
    assert d.named("claim.fail")[-1]["retry_in_ms"] != 0
    d.feed(TimerFired("claim_retry", d.timer("claim_retry").at_ms))
    assert "timestamp" not in json.loads(d.last(HttpRequest).body or "")
    d.answer(401, error_body("stale_timestamp"))
    assert d.named("claim.fail")[-1]["retry_in_ms"] == 0


def test_transport_error_on_claim_is_retried() -> None:
    d = Driver()
    claim = d.to_claim()
    d.feed(HttpFailed(claim.req_id, "timeout"))
    fail = d.named("claim.fail")[0]
    assert (fail["status"], fail["code"]) == (0, "transport") and fail["retry_in_ms"] != 0
    assert fail["message"] == "timeout"  # the transport's reason (SPEC §8.2)


def test_refused_handshake_reactions() -> None:
    d = Driver()
    connect = d.to_ws()
    d.feed(WsRefused(connect.conn_id, 403, error_body("token_expired")))
    assert d.named("ws.refused")[-1] == {
        "url": WS_URL,
        "status": 403,
        "reason": "token_expired",
        "message": "token_expired",
    }
    assert not d.named("ws.close")  # no connection was open (SPEC §8.2)
    assert d.last(HttpRequest).url.endswith("/pair/token/refresh")
    d.answer(
        200,
        json.dumps(
            {
                "access_token": "a2",
                "refresh_token": "r2",
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_expires_in": 604800,
            }
        ).encode(),
    )
    assert d.named("token.refreshed") == [{}]
    connect = d.last(WsConnect)
    assert dict(connect.headers)["Authorization"] == "Bearer a2"
    d.feed(WsRefused(connect.conn_id, 403, error_body("token_expired")))
    assert d.last(HttpRequest).url.endswith("/pair/claim")  # second refusal: claim again
    d.answer(200, claim_body())
    connect = d.last(WsConnect)
    d.feed(WsRefused(connect.conn_id, 403, error_body("age_out_of_range")))
    count = len(d.all(WsConnect))
    d.feed(TimerFired("ws_retry", 0), after_ms=5000)  # time passes; no retry is armed
    assert len(d.all(WsConnect)) == count  # held until a setting changes
    d.line("set child_age 8")
    assert len(d.all(WsConnect)) == count + 1
    assert "child_age=8" in d.last(WsConnect).url


@pytest.mark.parametrize(("code", "delay"), [(4001, 60_000), (4008, 0), (1011, 100), (1006, 100)])
def test_close_codes_pick_the_reconnect_delay(code: int, delay: int) -> None:
    d = Driver()
    connect = d.to_idle()
    d.feed(WsClosed(connect.conn_id, code, "x"))
    assert d.named("ws.close")[-1] == {"code": code, "reason": "x", "url": WS_URL}
    assert d.device.state == "offline"
    waited = d.timer("ws_retry").at_ms - d.now
    assert delay * 0.8 <= waited <= delay * 1.2
    d.feed(TimerFired("ws_retry", d.timer("ws_retry").at_ms), after_ms=waited)
    assert d.last(WsConnect).conn_id != connect.conn_id


def test_server_garbage_prints_error_and_keeps_the_connection() -> None:
    d = Driver()
    connect = d.to_idle()
    for frame in ("nope", '{"type":"handshake","timestamp":"' + TS + '"}', "[1]", "x" * 9000):
        d.feed(WsText(connect.conn_id, frame))
    codes = [e["code"] for e in d.named("error")]
    assert codes == ["invalid_json", "unknown_message_type", "invalid_json", "message_too_large"]
    assert not d.all(WsClose) and d.device.state == "idle"


def _frame(session: str, seq: int, *, final: bool, text: str | None = None) -> str:
    body: dict[str, object] = {
        "type": "audio_response",
        "audio_session_id": session,
        "seq": seq,
        "audio_data": "AAAAAA==",
        "is_final": final,
        "format": "pcm_s16le",
        "sample_rate": 16000,
        "channels": 1,
        "timestamp": TS,
    }
    if text is not None:
        body["text"] = text
    return json.dumps(body)


def test_reply_reassembly_gap_and_cut() -> None:
    d = Driver()
    connect = d.to_idle()
    d.line("text hi")
    assert json.loads(d.last(WsSend).text) == {"type": "text_message", "text": "hi"}
    assert d.state() == "thinking"
    d.feed(WsText(connect.conn_id, _frame("r1", 0, final=False, text="Hi!")))
    assert d.state() == "speaking"
    d.feed(WsText(connect.conn_id, _frame("r1", 2, final=True)))
    assert d.named("error")[-1]["code"] == "audio_seq_gap"
    d.feed(WsText(connect.conn_id, _frame("r2", 0, final=False, text="A")))
    d.feed(WsText(connect.conn_id, _frame("r3", 0, final=False, text="B")))
    assert d.named("audio.rx.end")[-1] == {
        "audio_session_id": "r2",
        "bytes": 4,
        "frames": 1,
        "text": "A",
    }
    d.feed(WsText(connect.conn_id, _frame("r3", 1, final=True)))
    assert d.named("audio.rx.end")[-1]["frames"] == 2


def test_console_replies_once_per_line() -> None:
    d = Driver()
    d.line("")
    assert not d.named("cmd.ok") and not d.named("cmd.error")
    d.line('talk "hi"')
    assert d.named("cmd.error")[-1] == {
        "cmd": "talk",
        "reason": "bad_argument",
        "message": "not connected (no ws.open yet)",
    }
    d.line("get volume")
    assert d.named("cmd.ok")[-1] == {"cmd": "get", "key": "volume", "value": 70}
    d.line("set child_id kid-2")
    assert d.all(NvsSet)[-1].key == "child_id"


def test_heartbeat_and_background_token_refresh() -> None:
    d = Driver()
    d.to_claim()
    d.answer(200, claim_body(expires_in=120))
    refresh_at = d.timer("token_refresh").at_ms
    assert refresh_at - d.now == 60_000  # 120 s lifetime, refreshed 60 s before expiry
    connect = d.last(WsConnect)
    d.feed(WsOpened(connect.conn_id))
    d.feed(WsText(connect.conn_id, hello_frame()))
    beat = d.timer("heartbeat")
    assert beat.at_ms - d.now == 30_000  # device_config.heartbeat_interval (SPEC §2.5)
    d.feed(TimerFired("heartbeat", beat.at_ms), after_ms=30_000)
    sent = json.loads(d.last(WsSend).text)
    assert sent["type"] == "heartbeat" and sent["device_id"] == "Teddy-ESP32-0001"
    d.feed(TimerFired("token_refresh", refresh_at), after_ms=refresh_at - d.now)
    assert d.last(HttpRequest).url.endswith("/pair/token/refresh")
    assert d.device.state == "idle"  # a background refresh leaves the chat alone
    pair = {
        "access_token": "a2",
        "refresh_token": "r2",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_expires_in": 604800,
    }
    effects = d.answer(200, json.dumps(pair).encode())
    keys = [e.key for e in effects if isinstance(e, NvsSet)]
    assert keys == ["refresh_token", "access_token"] and d.named("token.refreshed") == [{}]
    d.feed(TimerFired("token_refresh", d.timer("token_refresh").at_ms))
    effects = d.answer(401, error_body("refresh_token_reused"))
    assert any(isinstance(e, NvsErase) and e.namespace == "auth" for e in effects)
    assert d.device.state == "idle"


def test_wifi_down_during_the_join_keeps_the_link_down_until_wifi_up() -> None:
    """SPEC §9.2: `wifi down` leaves Wi-Fi, also while the join is still in flight."""
    d = Driver()
    assert d.state() == "wifi"  # booted, WifiConnect issued, not joined yet
    d.line("wifi down")
    assert d.named("wifi.down") and d.state() == "offline"
    d.feed(WifiUp("10.0.2.15"))  # the join that was in flight completes
    assert not d.named("wifi.up") and d.state() == "offline"
    assert not d.all(HttpRequest)  # no config fetch, no claim
    effects = d.line("wifi up")
    assert isinstance(effects[-1], WifiConnect)
    d.feed(WifiUp("10.0.2.15"))
    assert d.named("wifi.up") and d.state() == "config"
