"""Trace scripts driven from the serial console: SPEC §9 replies and `wifi down`/`up`.

Recorded by tests.emulator.trace_draft like trace_scripts (review every expectation
against SPEC before committing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from emulator.core.effects import HttpRequest, WsConnect
from emulator.core.inputs import ConsoleLine, HttpFailed, TimeSynced, WifiUp, WsOpened, WsText
from tests.emulator.trace_draft import Draft
from tests.emulator.trace_server import (
    CONFIG_ETAG,
    EPOCH,
    STORED_AUTH,
    error_body,
    hello,
    refresh_body,
    stored_cfg,
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


CONSOLE_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "wifi_down_during_join": wifi_down_during_join,
    "console_replies": console_replies,
}
