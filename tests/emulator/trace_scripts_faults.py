"""Trace scripts of servers that answer badly and downloads that must start over.

Recorded by tests.emulator.trace_draft like trace_scripts (review every expectation
against SPEC before committing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final

from emulator.core.effects import HttpRequest, SlotRead, WsConnect
from emulator.core.inputs import (
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
    SlotData,
    TimeSynced,
    WifiUp,
    WsClosed,
    WsOpened,
    WsRefused,
    WsText,
)
from tests.emulator.trace_draft import Draft, nonce, nvs
from tests.emulator.trace_server import (
    EPOCH,
    STORED_AUTH,
    claim_body,
    error_body,
    fire,
    hello,
    image,
    manifest,
    refresh_body,
    stored_cfg,
    to_idle,
)


def bad_answers() -> Draft:
    d = Draft(
        "bad_answers",
        "Answers a device must survive: a config 200 whose body is not an object "
        "(config.fail{200, bad_body}, boot goes on, SPEC §4.3), a claim 200 it cannot parse "
        "(claim.fail{200, bad_response}, backoff), then three refusals without a readable "
        "body (SPEC §6.1: refresh once, then claim, then back off). A reconnect whose token "
        "is about to expire refreshes first (SPEC §3.2).",
        ["2.6", "3.2", "4.3", "6.1", "6.2", "8.2"],
        nonces=[nonce(0x11), nonce(0x22), nonce(0x33)],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(200, b"[1, 2]", headers={"etag": '"x"'}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, b'{"access_token":"a"}', after_ms=30, note="SPEC §2.5 fields missing")
    fire(d, "claim_retry")
    d.answer(200, claim_body(expires_in=300), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(WsRefused(conn, 403, b""), after_ms=8, note="no body: http_403; refresh once")
    d.answer(200, refresh_body(2, expires_in=300), after_ms=20)
    conn = d.last(WsConnect).conn_id
    d.feed(WsRefused(conn, 403, b"<html>"), after_ms=8, note="second refusal: claim again")
    d.answer(200, claim_body(expires_in=300), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(WsRefused(conn, 403, b""), after_ms=8, note="third refusal: back off")
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.answer(404, error_body("no_release"), after_ms=4)
    d.feed(
        WsClosed(conn, 1011, "internal_error"),
        after_ms=250_000,
        note="the 300 s token has less than 60 s left",
    )
    fire(d, "ws_retry", note="SPEC §3.2: refresh first, then connect")
    d.answer(200, refresh_body(3), after_ms=20)
    return d


def download_restarts() -> Draft:
    big = image("1.1.0", payload_len=600)
    sha = hashlib.sha256(big).hexdigest()
    d = Draft(
        "download_restarts",
        "SPEC §5.2 resume rules: a partial slot shorter than NVS says restarts the download "
        "from 0 (slot erased); after a cut, a 206 whose Content-Range does not start at the "
        "received count is a failed attempt; a 200 to a Range request restarts from byte 0.",
        ["5.2", "5.4", "8.2"],
        nvs=[
            *STORED_AUTH,
            *stored_cfg(),
            nvs("ota_dl", "sha256", sha),
            nvs("ota_dl", "slot", "ota_1"),
            nvs("ota_dl", "size", len(big)),
            nvs("ota_dl", "version", "1.1.0"),
            nvs("ota_dl", "bytes", 500),
        ],
        nonces=[],
    )
    to_idle(d, stored=True, check_answer=None)
    d.answer(200, manifest(big, version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    read = d.last(SlotRead)
    d.feed(SlotData(read.slot, 0, big[:100]), after_ms=3, note="the slot ends at 100, not 500")
    request = d.last(HttpRequest)
    etag = f'"{sha}"'
    d.feed(HttpStreamStart(request.req_id, 200, {"etag": etag}), after_ms=20)
    d.feed(HttpStreamData(request.req_id, big[:300]), after_ms=10)
    d.feed(HttpStreamEnd(request.req_id), after_ms=2, note="ended early: attempt 1 failed")
    fire(d, "ota_retry")
    request = d.last(HttpRequest)
    bad_range = {"etag": etag, "content-range": f"bytes 0-{len(big) - 1}/{len(big)}"}
    d.feed(
        HttpStreamStart(request.req_id, 206, bad_range),
        after_ms=20,
        note="a 206 from 0, not from 300: attempt 2 failed",
    )
    fire(d, "ota_retry")
    request = d.last(HttpRequest)
    d.feed(
        HttpStreamStart(request.req_id, 200, {"etag": etag}),
        after_ms=20,
        note="the whole file (If-Range did not match): start again at 0",
    )
    d.feed(HttpStreamData(request.req_id, big), after_ms=10)
    d.feed(HttpStreamEnd(request.req_id), after_ms=2)
    return d


def image_too_big() -> Draft:
    d = Draft(
        "image_too_big",
        "An image larger than the inactive slot is refused before anything is written "
        "(esp_ota_begin would fail): ota.verify.fail{size_mismatch}, the chat stays idle.",
        ["5.4", "5.5", "8.2"],
        boot={"slot_size": 256},
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    to_idle(d, stored=True, check_answer=None)
    d.answer(200, manifest(image("1.1.0"), version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    return d


def refresh_during_reconnect() -> Draft:
    d = Draft(
        "refresh_during_reconnect",
        "The WebSocket drops while a background refresh is in flight and the reconnect "
        "timer fires before its answer: the device must not start a second refresh (SPEC "
        "§3.2) and must not stay offline either (SPEC §6.2): it connects once the refresh "
        "answers.",
        ["3.2", "6.2", "8.2", "8.3"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    conn = to_idle(d, stored=True)
    fire(d, "token_refresh", note="background refresh in flight")
    d.feed(WsClosed(conn, 1011, "internal_error"), after_ms=5)
    fire(d, "ws_retry", note="the token needs refreshing and one refresh is running: wait")
    d.answer(200, refresh_body(2), after_ms=50, note="now connect with the new token")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    return d


FAULT_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "bad_answers": bad_answers,
    "download_restarts": download_restarts,
    "image_too_big": image_too_big,
    "refresh_during_reconnect": refresh_during_reconnect,
}
