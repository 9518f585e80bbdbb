"""Trace scripts driven from the serial console: SPEC §9 replies and `wifi down`/`up`.

Recorded by tests.emulator.trace_draft like trace_scripts (review every expectation
against SPEC before committing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from emulator.core.effects import HttpRequest, StartCapture, WsConnect
from emulator.core.inputs import (
    CaptureEnded,
    CaptureStarted,
    ConsoleLine,
    HttpFailed,
    TimeSynced,
    WifiUp,
    WsOpened,
    WsText,
)
from protocol.messages import ErrorMessage
from tests.emulator.trace_draft import Draft
from tests.emulator.trace_server import (
    CONFIG_ETAG,
    EPOCH,
    STORED_AUTH,
    error_body,
    hello,
    image,
    manifest,
    refresh_body,
    server_msg,
    stored_cfg,
    to_idle,
)


def wifi_down_during_join() -> Draft:
    d = Draft(
        "wifi_down_during_join",
        "SPEC §9.2: `wifi down` typed while the join is in flight cancels it (wifi.down, "
        "offline); the join completing later does not bring the link up; `wifi up` does. "
        "Then `wifi down` with an open WebSocket closes it with 1000 first.",
        ["6.2", "8.2", "8.3", "9.2"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    d.start()
    d.feed(ConsoleLine("wifi down"), after_ms=3)
    d.feed(WifiUp("10.0.2.15"), after_ms=20, note="the join that was in flight completes")
    d.feed(ConsoleLine("wifi up"), after_ms=500)
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(304, headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, refresh_body(1), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.answer(404, error_body("no_release"), after_ms=4)
    d.feed(ConsoleLine("wifi down"), after_ms=100, note="SPEC §9.2: close 1000 first")
    d.feed(ConsoleLine("status"), after_ms=10)
    return d


def console_replies() -> Draft:
    d = Draft(
        "console_replies",
        "SPEC §9.1, §9.3: one reply per non-empty line, none for an empty one; settings "
        "get/set (volume applied at once, a new child_id drops the tokens), status, help, "
        "each refusal reason, `ota check` without a link, then factory-reset.",
        ["9.1", "9.2", "9.3", "8.2"],
        nonces=[],
    )
    d.start()
    for line in (
        "",
        "help",
        "get volume",
        "set volume 30",
        "set child_age 14",
        "get child_age",
        "set child_name 'Sam Lee'",
        "get child_name",
        "status",
        "frobnicate",
        "button hold",
        "button release",
        "set colour red",
        "set volume 101",
        "reboot now",
        "text",
        'set child_name "Sam',
        'talk "hi"',
        "get server",
        "set child_id kid-2",
        "ota check",
    ):
        d.feed(ConsoleLine(line), after_ms=10)
    d.feed(
        HttpFailed(d.last(HttpRequest).req_id, "no_route"),
        after_ms=5,
        note="SPEC §5.4 row 1: a transport error is check_failed",
    )
    d.feed(
        ConsoleLine("factory-reset"),
        after_ms=10,
        note="SPEC §9.2: erase settings and tokens, keep mfg and sys, then reboot",
    )
    return d


def busy_commands() -> Draft:
    d = Draft(
        "busy_commands",
        "SPEC §9.3 refusals of a busy device (bad_argument, the target cannot do it now): "
        "`talk` and `button press` during an utterance, `button release` of a `talk`, "
        "`ota check` while a download runs, `talk` during an update; `status` reports "
        "listening and updating (SPEC §8.3).",
        ["8.3", "9.2", "9.3"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    conn = to_idle(d, stored=True)
    d.feed(ConsoleLine("talk hello"), after_ms=100)
    capture = d.last(StartCapture).capture_id
    d.feed(CaptureStarted(capture), after_ms=3)
    for line in ("talk hello", "button press", "button release", "status"):
        d.feed(ConsoleLine(line), after_ms=10)
    d.feed(CaptureEnded(capture), after_ms=100)
    d.feed(WsText(conn, server_msg(ErrorMessage("no_audio_data", "no audio"))), after_ms=20)
    d.feed(ConsoleLine("ota check"), after_ms=100)
    d.answer(200, manifest(image("1.1.0"), version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    for line in ("ota check", "talk hello", "status"):
        d.feed(ConsoleLine(line), after_ms=10)
    return d


CONSOLE_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "wifi_down_during_join": wifi_down_during_join,
    "console_replies": console_replies,
    "busy_commands": busy_commands,
}
