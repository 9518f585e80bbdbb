"""Trace scripts: events that say why (SPEC §8.2) and the claim's child profile (SPEC §9.2).

Part of the trace drafting tool (`tests.emulator.trace_draft`), never of a test run.
`claim_says_why` answers the claim the way the original server did (two different 404s
with the same `HTTP_404` code, FastAPI's `detail` body, an nginx page, binary garbage, a
relative websocket_url); `link_says_why` refuses the upgrade with a third-party 404,
answers a refresh and a manifest that miss fields, and sends a hostile error frame and
close reason. `claim_child_profile` and `stored_child_profile` show the claim's name and
age becoming the WebSocket query's defaults, across a reboot, until `set`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

from emulator.core.effects import HttpRequest, WsConnect
from emulator.core.inputs import (
    ConsoleLine,
    HttpFailed,
    TimeSynced,
    WifiUp,
    WsClosed,
    WsOpened,
    WsRefused,
    WsText,
)
from protocol.messages import ErrorMessage
from tests.emulator.trace_draft import Draft, nonce, nvs
from tests.emulator.trace_server import (
    CONFIG_ETAG,
    EPOCH,
    STORED_AUTH,
    claim_body,
    config_body,
    error_body,
    fire,
    hello,
    refresh_body,
    server_msg,
    stored_cfg,
    to_idle,
)

# The original server's HTTPException bodies (original-system.md §1.1): the same code for
# two different refusals; only `message` tells them apart.
ORIGINAL_DEVICE_404: Final = (
    b'{"error":{"code":"HTTP_404","message":"Device not registered or not found",'
    b'"correlation_id":"0b7f3c52-4f0e-4d3b-8a8e-7c7f2a1d9e10"}}'
)
FASTAPI_CHILD_404: Final = b'{"detail":"Child profile not found or inactive"}'
NGINX_502: Final = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>\r\n"
BINARY_500: Final = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
# No child name or age built in: the claim's child profile decides (SPEC §9.2).
UNPROFILED: Final[dict[str, object]] = {"child_name": None, "child_age": None}


def _relative_ws_url_claim() -> bytes:
    """A claim 200 whose websocket_url is the original's relative path (defect 18)."""
    body = json.loads(claim_body())
    body["device_config"]["websocket_url"] = "/ws/esp32/connect"
    return json.dumps(body, separators=(",", ":")).encode()


def claim_says_why() -> Draft:
    d = Draft(
        "claim_says_why",
        "SPEC §8.2 what the server said, against a server in the original style: a config "
        "200 that is not JSON; the original's two 404s (both HTTP_404: device, then, after "
        "`claim`, FastAPI's detail for the child) reported with their messages; a claim 200 "
        "with a relative websocket_url names the field; an nginx page and binary garbage "
        "are quoted safely (one line, no controls).",
        ["1.1", "1.2", "2.5", "2.6", "4.3", "8.1", "8.2"],
        nonces=[nonce(0x10 * i) for i in range(1, 7)],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(200, b"{not json", headers={"etag": CONFIG_ETAG}, after_ms=5, note="SPEC §4.3")
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(404, ORIGINAL_DEVICE_404, after_ms=30, note="SPEC §2.6: 404 stops; the message")
    d.feed(ConsoleLine("claim"), after_ms=2000)
    d.answer(404, FASTAPI_CHILD_404, after_ms=30, note="FastAPI's detail: code http_404")
    d.feed(ConsoleLine("claim"), after_ms=2000)
    d.answer(200, _relative_ws_url_claim(), after_ms=30, note="SPEC §2.5: absolute ws[s]://")
    fire(d, "claim_retry")
    d.answer(502, NGINX_502, after_ms=30, note="another shape: the body's text, quoted")
    fire(d, "claim_retry")
    d.answer(500, BINARY_500, after_ms=30, note="binary: ? for bytes that are not UTF-8")
    fire(d, "claim_retry")
    d.answer(200, claim_body(), after_ms=30)
    return d


def link_says_why() -> Draft:
    d = Draft(
        "link_says_why",
        "SPEC §8.2 on the link: a third-party server refuses the upgrade with 404 and "
        "FastAPI's detail (ws.refused with the URL, status and message; refresh first, "
        "SPEC §6.1); the refresh 200 lacks fields (token.refresh.fail names them, next "
        "retry); a manifest with a bad url and sha256 (ota.none bad_manifest names them); a "
        "transport failure of the next check; an error frame and a close reason with control "
        "characters are quoted (SPEC §8.1).",
        ["3.2", "5.4", "6.1", "6.2", "8.1", "8.2"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(304, headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, refresh_body(1), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(
        WsRefused(conn, 404, b'{"detail":"Not Found"}'),
        after_ms=8,
        note="SPEC §6.1: no §1.2 reason: refresh once first",
    )
    d.answer(200, b'{"access_token":"access-2","token_type":"bearer"}', after_ms=20)
    fire(d, "auth_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.answer(
        200,
        json.dumps({"version": "1.1.0", "url": "esp32_firmware.bin", "sha256": "ab"}).encode(),
        after_ms=4,
        note="SPEC §5.1 device-side rules: the original's relative file name, a short sha256",
    )
    d.feed(ConsoleLine("ota check"), after_ms=100)
    d.feed(HttpFailed(d.last(HttpRequest).req_id, "timeout"), after_ms=10)
    error = ErrorMessage("processing_error", "line one\nline two\t" + "x" * 300)
    d.feed(WsText(conn, server_msg(error)), after_ms=100, note="quoted, at most 200 bytes")
    d.feed(WsClosed(conn, 1011, "internal\r\nerror"), after_ms=100, note="quoted")
    return d


def claim_child_profile() -> Draft:
    d = Draft(
        "claim_child_profile",
        "SPEC §2.5, §9.2: with no child name or age built in, the claim's child_profile "
        "(Sam Lee, 9) is stored with the tokens (NVS auth) and sent in the WebSocket query "
        "(percent-encoded, SPEC §6.1); `status` and `get` show it; `set child_name` wins at "
        "the next connection; a new claim's age beyond 32 bits is stored clamped.",
        ["2.5", "6.1", "8.2", "9.2", "9.3"],
        build=UNPROFILED,
        nonces=[nonce(0x20), nonce(0x30)],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(200, config_body(), headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, claim_body(name="Sam Lee", age=9), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.answer(404, error_body("no_release"), after_ms=4)
    d.feed(ConsoleLine("status"), after_ms=100)
    d.feed(ConsoleLine("get child_age"), after_ms=10)
    d.feed(ConsoleLine('set child_name "Mia Rose"'), after_ms=10, note="next connection")
    d.feed(WsClosed(conn, 1011, "internal_error"), after_ms=100)
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.feed(ConsoleLine("claim"), after_ms=100, note="SPEC §9.2: a new claim, a new profile")
    d.answer(200, claim_body(name="Ada", age=99_999_999_999), after_ms=30)
    return d


def stored_child_profile() -> Draft:
    d = Draft(
        "stored_child_profile",
        "SPEC §9.2 across a reboot: the claim's child profile stored in NVS (auth "
        "child_name, child_age) is the WebSocket query's default after the refresh that "
        "follows a boot (SPEC §3.2); no claim is needed to know it.",
        ["3.2", "6.1", "9.2"],
        build=UNPROFILED,
        nvs=[
            *STORED_AUTH,
            nvs("auth", "child_name", "Sam Lee"),
            nvs("auth", "child_age", 9),
            *stored_cfg(),
        ],
        nonces=[],
    )
    to_idle(d, stored=True)
    d.feed(ConsoleLine("status"), after_ms=100)
    return d


WHY_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "claim_says_why": claim_says_why,
    "link_says_why": link_says_why,
    "claim_child_profile": claim_child_profile,
    "stored_child_profile": stored_child_profile,
}
