"""The scripts `tests.emulator.trace_draft` records into protocol/vectors/device_traces.

One function per trace file: it sets a trace up and feeds the inputs; the Python core's
answers become the draft expectation, which is then reviewed against SPEC (see
trace_draft). Boot, claim, tokens, WebSocket and a chat turn here; `SCRIPTS` gathers
them with those of trace_scripts_console (console, `wifi`), trace_scripts_chat (the
connected device), trace_scripts_ota (download, apply, self-test) and
trace_scripts_checks (the update decision and verification), trace_scripts_faults
(bad answers, downloads that start over) and trace_scripts_why (events that say why,
the claim's child profile) and trace_scripts_quirks (the device quirks, SPEC Appendix C).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from emulator.core.effects import HttpRequest, StartCapture, WsConnect
from emulator.core.inputs import (
    CaptureChunk,
    CaptureEnded,
    CaptureStarted,
    ConsoleLine,
    HttpFailed,
    PlaybackDone,
    TimeSynced,
    WifiUp,
    WsClosed,
    WsOpened,
    WsRefused,
    WsText,
)
from protocol.messages import ErrorMessage, SystemMessage, TextResponse
from tests.emulator.trace_draft import NONCE_2, Draft, nonce, nvs
from tests.emulator.trace_scripts_chat import CHAT_SCRIPTS
from tests.emulator.trace_scripts_checks import CHECK_SCRIPTS
from tests.emulator.trace_scripts_console import CONSOLE_SCRIPTS
from tests.emulator.trace_scripts_faults import FAULT_SCRIPTS
from tests.emulator.trace_scripts_ota import OTA_SCRIPTS
from tests.emulator.trace_scripts_quirks import QUIRK_SCRIPTS
from tests.emulator.trace_scripts_why import WHY_SCRIPTS
from tests.emulator.trace_server import (
    CONFIG_ETAG,
    EPOCH,
    STORED_AUTH,
    audio_frame,
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

# A provisioned secret written in lower case: SPEC §2.1 compares hex case-insensitively.
MFG_OOB: Final = "5a" * 32
# Non-ASCII on purpose: SPEC §8.1 event lines carry raw UTF-8 (as cJSON prints it).
REPLY: Final = "Grüß dich, Mia! 🦕"


def boot_to_websocket() -> Draft:
    d = Draft(
        "boot_to_websocket",
        "Blank flash, power-on: boot, Wi-Fi, config 200 stored with its ETag, SNTP, a "
        "claim signed over the SPEC §2.2 nonce (hmac_hex is the §2.2 anchor 2cbc09fe...), "
        "tokens persisted refresh token first, the WebSocket with the Bearer header, "
        "ws.open on connection_established, the first manifest check (404) and a heartbeat.",
        ["2.2", "2.3", "2.5", "3.2", "4.3", "5.4", "6.1", "6.3", "8.2", "8.3"],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20, note="SPEC §4.3: the config after Wi-Fi, no ETag yet")
    d.answer(
        200,
        config_body(),
        headers={"etag": CONFIG_ETAG},
        after_ms=5,
        note="SPEC §4.3: 200 stores body then ETag; config.ok{cached:false}",
    )
    d.feed(TimeSynced(EPOCH), after_ms=10, note="SPEC §2.3: timestamp only once synced")
    d.answer(
        200,
        claim_body(),
        after_ms=30,
        note="SPEC §3.2: refresh token durable before the access token is used",
    )
    connect = d.last(WsConnect)
    d.feed(WsOpened(connect.conn_id), after_ms=5, note="SPEC §6.1: no ws.open on the upgrade")
    d.feed(
        WsText(connect.conn_id, hello()),
        after_ms=2,
        note="SPEC §6.1 ws.open; SPEC §5.4: the first check follows ws.open",
    )
    d.answer(404, error_body("no_release"), after_ms=4, note="SPEC §5.4 row 2")
    fire(d, "heartbeat", note="SPEC §6.3: heartbeat every device_config.heartbeat_interval")
    d.feed(WsText(connect.conn_id, server_msg(SystemMessage.heartbeat_response())), after_ms=3)
    return d


def chat_turn() -> Draft:
    d = Draft(
        "chat_turn",
        "Stored tokens: config 304, refresh first after the reboot, then one talk turn: "
        "audio_start, 8-byte uplink chunks (the claim's chunk_bytes), the remainder with "
        "is_final, audio_end, the text and two audio frames of the reply, playback done; "
        "then a text turn answered with a server error, and `reboot`.",
        ["3.2", "4.3", "6.3", "6.5", "7.2", "7.3", "8.2", "8.3", "9.2", "9.3"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    conn = to_idle(d, stored=True)
    d.feed(ConsoleLine("talk hello"), after_ms=100, note="SPEC §9.3: cmd.ok once the source opened")
    capture = d.last(StartCapture).capture_id
    d.feed(CaptureStarted(capture), after_ms=3)
    d.feed(
        CaptureChunk(capture, bytes(range(20))),
        after_ms=128,
        note="SPEC §7.2: full chunks go out as they fill; the rest waits",
    )
    d.feed(
        CaptureEnded(capture),
        after_ms=128,
        note="SPEC §7.2: the partial chunk with is_final, then audio_end",
    )
    session = "u-1-0001"
    ack = SystemMessage.audio_start_ack(audio_session_id=session)
    d.feed(WsText(conn, server_msg(ack)), after_ms=5)
    reply = TextResponse(REPLY, "hello", session)
    d.feed(WsText(conn, server_msg(reply)), after_ms=400, note="SPEC §6.5 rule 7")
    d.feed(
        WsText(conn, audio_frame(session, 0, bytes(range(6)), final=False, text=REPLY)),
        after_ms=2,
        note="SPEC §7.3: audio.rx.start at seq 0",
    )
    d.feed(
        WsText(conn, audio_frame(session, 1, bytes(range(6, 10)), final=True)),
        after_ms=2,
        note="SPEC §7.3: audio.rx.end at is_final",
    )
    d.feed(PlaybackDone(session), after_ms=300)
    d.feed(ConsoleLine("text tell me about dinosaurs"), after_ms=50)
    d.feed(
        WsText(conn, server_msg(ErrorMessage("processing_error", "speech failed"))),
        after_ms=30,
        note="SPEC §6.3: a server error is printed; the turn is over",
    )
    d.feed(
        ConsoleLine("reboot"),
        after_ms=100,
        note="SPEC §9.2: cmd.ok first; SPEC §6.2: close 1001 `reboot`; reset_reason sw",
    )
    return d


def token_refresh() -> Draft:
    d = Draft(
        "token_refresh",
        "Claim with a 120 s token: the refresh timer fires 60 s before expiry (SPEC §3.2); "
        "a background refresh rotates the pair, refresh token persisted first, without "
        "touching the chat; the config is fetched again after max-age (304); a failed "
        "background refresh (503) retries after the claim backoff on the same timer.",
        ["3.2", "4.3", "8.2"],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(200, config_body(), headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, claim_body(expires_in=120), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.answer(404, error_body("no_release"), after_ms=4)
    fire(d, "heartbeat")
    fire(d, "token_refresh", note="SPEC §3.2: refresh before expiry, never in a loop")
    d.answer(
        200,
        refresh_body(2, expires_in=3600),
        after_ms=20,
        note="SPEC §3.2: new refresh token persisted first; the chat stays idle",
    )
    fire(d, "config_refresh", note="SPEC §4.3: again when the cached copy is older than max-age")
    d.answer(304, headers={"etag": CONFIG_ETAG}, after_ms=5)
    fire(d, "token_refresh")
    d.answer(
        503,
        error_body("internal_error"),
        after_ms=20,
        note="a failed background refresh retries on its own timer (claim backoff)",
    )
    fire(d, "token_refresh")
    d.answer(200, refresh_body(3, expires_in=3600), after_ms=20)
    return d


def ws_refused() -> Draft:
    d = Draft(
        "ws_refused",
        "SPEC §6.1 reactions to refused handshakes (ws.refused{url, status, reason, message} "
        "each time): "
        "token_expired refreshes; that refresh's 401 discards both tokens and claims with a "
        "fresh nonce (SPEC §3.2); session_revoked claims again; age_out_of_range (the "
        'setting says 14) holds until `set child_age` changes it. The child name "Sam '
        "O'Brien\" is percent-encoded in the query (SPEC §6.1: a space is %20).",
        ["3.2", "6.1", "8.2", "9.2"],
        build={"child_age": 14, "child_name": "Sam O'Brien"},
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[NONCE_2, nonce(0x70)],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(304, headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, refresh_body(1), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(
        WsRefused(conn, 403, error_body("token_expired")),
        after_ms=8,
        note="SPEC §6.1: token_expired -> refresh, then reconnect",
    )
    d.answer(
        401,
        error_body("invalid_token"),
        after_ms=20,
        note="SPEC §3.2: 401 from refresh -> discard both tokens, claim with a fresh nonce",
    )
    d.answer(200, claim_body(), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(
        WsRefused(conn, 403, error_body("session_revoked")),
        after_ms=8,
        note="SPEC §6.1: session_revoked -> claim again",
    )
    d.answer(200, claim_body(), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(
        WsRefused(conn, 403, error_body("age_out_of_range", "child_age must be 3..13")),
        after_ms=8,
        note="SPEC §6.1: no retry until the setting changes",
    )
    d.feed(ConsoleLine("set child_age 8"), after_ms=1000, note="SPEC §9.2: next connection")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    return d


def reconnect_backoff() -> Draft:
    d = Draft(
        "reconnect_backoff",
        "SPEC §6.2 reconnect backoff with zero jitter: 100, 200, 400 ms (fast base), a "
        "connection that lasted 60 s resets it; 4008 reconnects at once. Timing sets "
        "heartbeat_interval_ms 0, which the model defines as the server's value (30 s).",
        ["6.2", "6.3", "8.2", "8.3"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
        timing_set={"heartbeat_interval_ms": 0},
    )
    conn = to_idle(d, stored=True)
    d.feed(WsClosed(conn, 1011, "internal_error"), after_ms=1000, note="attempt 1: 100 ms")
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsClosed(conn, 1006, ""), after_ms=50, note="dropped before open: attempt 2, 200 ms")
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsClosed(conn, 1012, ""), after_ms=50, note="attempt 3: 400 ms")
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.feed(
        WsClosed(conn, 1001, "server_shutdown"),
        after_ms=60_000,
        note="SPEC §6.2: lasted 60 s, the backoff starts again at 100 ms",
    )
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.feed(WsClosed(conn, 4008, "idle_timeout"), after_ms=500, note="SPEC §6.2: 4008 at once")
    fire(d, "ws_retry")
    return d


def close_4001_holdoff() -> Draft:
    d = Draft(
        "close_4001_holdoff",
        "SPEC §6.2: close 4001 session_replaced holds reconnecting off for 60 s. Timing "
        "sets heartbeat_interval_ms 5000, which overrides the server's interval.",
        ["6.2", "6.3", "8.2"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
        timing_set={"heartbeat_interval_ms": 5000},
    )
    conn = to_idle(d, stored=True)
    d.feed(WsClosed(conn, 4001, "session_replaced"), after_ms=2000)
    fire(d, "ws_retry", note="60 s later, not before")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    return d


def claim_retry_policy() -> Draft:
    d = Draft(
        "claim_retry_policy",
        "SPEC §2.6 device retry policy with zero jitter: config fails (transport) and the "
        "boot goes on; 503 and 409 back off 100 then 200 ms, 429 waits Retry-After, a "
        "transport error backs off 800 ms, 401 stale_timestamp retries once without the "
        "timestamp, a second one gives up (retry_in_ms 0, offline). Fresh nonce each time.",
        ["2.3", "2.6", "4.3", "8.2"],
        nonces=[nonce(16 * i) for i in range(1, 7)],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.feed(
        HttpFailed(d.last(HttpRequest).req_id, "connect_failed"),
        after_ms=5,
        note="SPEC §4.3: config is never a reason to stop booting",
    )
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(503, error_body("internal_error"), after_ms=30)
    fire(d, "claim_retry")
    d.answer(409, error_body("nonce_reused"), after_ms=30)
    fire(d, "claim_retry")
    d.answer(429, error_body("rate_limited"), headers={"retry-after": "7"}, after_ms=30)
    fire(d, "claim_retry")
    d.feed(HttpFailed(d.last(HttpRequest).req_id, "timeout"), after_ms=10_000)
    fire(d, "claim_retry")
    d.answer(401, error_body("stale_timestamp"), after_ms=30)
    fire(d, "claim_retry", note="SPEC §2.6: retried once without timestamp")
    d.answer(401, error_body("stale_timestamp"), after_ms=30)
    return d


def claim_gives_up() -> Draft:
    d = Draft(
        "claim_gives_up",
        "A board with a manufacturing identity in NVS (mfg device_id and a lower-case OOB "
        "secret, SPEC §2.1) claims with them, not the build's. SPEC §2.6: 404 "
        "device_not_found needs a human: claim.fail{retry_in_ms:0}, offline, no retry "
        "timer; the console `claim` claims again with a fresh nonce.",
        ["2.1", "2.2", "2.6", "8.2", "9.2"],
        nvs=[
            nvs("mfg", "device_id", "teddy-esp32-0123456789ab"),
            nvs("mfg", "oob_secret", MFG_OOB),
        ],
        nonces=[nonce(0x40), nonce(0x50)],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(500, error_body("internal_error"), after_ms=5, note="config.fail{500}")
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(404, error_body("device_not_found"), after_ms=30)
    d.feed(ConsoleLine("claim"), after_ms=5000)
    d.answer(200, claim_body(), after_ms=30)
    return d


SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "boot_to_websocket": boot_to_websocket,
    "chat_turn": chat_turn,
    "token_refresh": token_refresh,
    "ws_refused": ws_refused,
    "reconnect_backoff": reconnect_backoff,
    "close_4001_holdoff": close_4001_holdoff,
    "claim_retry_policy": claim_retry_policy,
    "claim_gives_up": claim_gives_up,
    **CONSOLE_SCRIPTS,
    **CHAT_SCRIPTS,
    **OTA_SCRIPTS,
    **CHECK_SCRIPTS,
    **FAULT_SCRIPTS,
    **WHY_SCRIPTS,
    **QUIRK_SCRIPTS,
}
