"""Trace scripts of the connected device: reply framing, bad server frames, push-to-talk,
a lost link, the panic behaviour marker.

Recorded by tests.emulator.trace_draft like trace_scripts (review every expectation
against SPEC before committing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from emulator.core.effects import StartCapture, WsConnect
from emulator.core.inputs import (
    CaptureChunk,
    CaptureEnded,
    CaptureFailed,
    CaptureStarted,
    ConsoleLine,
    PlaybackDone,
    TimeSynced,
    WifiDown,
    WifiUp,
    WsBinary,
    WsClosed,
    WsOpened,
    WsText,
)
from protocol.messages import ErrorMessage, SystemMessage, TextResponse
from tests.emulator.trace_draft import TS, Draft
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
    server_msg,
    stored_cfg,
    to_idle,
)


def _connected(name: str, description: str, spec: list[str]) -> tuple[Draft, int]:
    d = Draft(name, description, spec, nvs=[*STORED_AUTH, *stored_cfg()], nonces=[])
    return d, to_idle(d, stored=True)


def reply_framing() -> Draft:
    d, conn = _connected(
        "reply_framing",
        "SPEC §7.3 device reassembly: a gap stops that reply (error{audio_seq_gap}, play_end "
        "cut) and its later frames are dropped silently; a seq 0 with another id cuts the "
        "reply in progress (audio.rx.end, play_end cut); a frame of an unknown reply "
        "without seq 0 is a gap too.",
        ["6.4", "7.3", "8.2", "8.3"],
    )
    d.feed(ConsoleLine("text hi"), after_ms=100)
    d.feed(WsText(conn, server_msg(TextResponse("Hi!"))), after_ms=200)
    d.feed(WsText(conn, audio_frame("r1", 0, bytes(4), final=False, text="Hi!")), after_ms=2)
    d.feed(
        WsText(conn, audio_frame("r1", 2, bytes(4), final=False)),
        after_ms=2,
        note="seq 1 is missing: a gap",
    )
    d.feed(
        WsText(conn, audio_frame("r1", 3, bytes(4), final=True)),
        after_ms=2,
        note="the rest of a dead reply is dropped without another error",
    )
    d.feed(PlaybackDone("r1"), after_ms=50)
    d.feed(ConsoleLine("text more"), after_ms=100)
    d.feed(WsText(conn, audio_frame("r2", 0, bytes(2), final=False, text="A")), after_ms=200)
    d.feed(
        WsText(conn, audio_frame("r3", 0, bytes(6), final=False, text="B")),
        after_ms=2,
        note="SPEC §7.3: a seq 0 with a different id ends the previous reply (cut)",
    )
    d.feed(WsText(conn, audio_frame("r3", 1, bytes(2), final=True)), after_ms=2)
    d.feed(
        WsText(conn, audio_frame("r9", 1, bytes(2), final=True)),
        after_ms=2,
        note="a frame of a reply never started",
    )
    d.feed(PlaybackDone("r2"), after_ms=50)
    d.feed(PlaybackDone("r3"), after_ms=50)
    return d


def server_frames() -> Draft:
    d, conn = _connected(
        "server_frames",
        "SPEC §6.3, §6.4, §8.2: frames the server should never send (not an object, an "
        "unknown type, a missing field, no timestamp, a bad seq, a binary frame) print "
        "error{code} with the parser's code and are dropped; the connection stays; unknown "
        "system data types and heartbeat_response are tolerated silently.",
        ["6.3", "6.4", "8.2"],
    )
    bad_audio = (
        '{"type":"audio_response","audio_session_id":"r1","seq":-1,"audio_data":"",'
        f'"is_final":true,"format":"pcm_s16le","sample_rate":16000,"channels":1,"timestamp":"{TS}"}}'
    )
    # No syntactically broken JSON here: Python's json module and cJSON word their syntax
    # errors differently (messages_invalid.json pins the code both parsers give).
    for text in (
        "[1]",
        '{"type":"handshake","timestamp":"' + TS + '"}',
        '{"type":"text_response","timestamp":"' + TS + '"}',
        '{"type":"text_response","text":"no timestamp"}',
        bad_audio,
        server_msg(SystemMessage("maintenance_notice", {"note": "x"})),
        server_msg(SystemMessage.heartbeat_response()),
    ):
        d.feed(WsText(conn, text), after_ms=10)
    d.feed(WsBinary(conn, 10), after_ms=10)
    d.feed(ConsoleLine("status"), after_ms=10)
    return d


def push_to_talk() -> Draft:
    d, conn = _connected(
        "push_to_talk",
        "SPEC §9.2 `button press`/`button release` with the live source: cmd.ok once the "
        "source opened, chunks as they fill, on release the partial chunk with is_final and "
        "audio_end; the server's audio_too_short ends the turn. Then sources that cannot "
        "open: an unknown clip (bad_value) and a phrase without text-to-speech (bad_argument).",
        ["6.3", "6.5", "7.2", "8.2", "9.2", "9.3"],
    )
    d.feed(ConsoleLine("button press"), after_ms=100)
    capture = d.last(StartCapture).capture_id
    d.feed(CaptureStarted(capture), after_ms=3)
    d.feed(CaptureChunk(capture, bytes(range(10))), after_ms=128)
    d.feed(ConsoleLine("button release"), after_ms=50, note="cmd.ok, then the source stops")
    d.feed(CaptureEnded(capture), after_ms=2)
    session = "u-1-0001"
    d.feed(
        WsText(conn, server_msg(SystemMessage.audio_start_ack(audio_session_id=session))),
        after_ms=5,
    )
    too_short = ErrorMessage("audio_too_short", "utterance of 10 bytes is under 3200 (0.1 s)")
    d.feed(WsText(conn, server_msg(too_short)), after_ms=20)
    d.feed(ConsoleLine("talk nosuchclip"), after_ms=100)
    d.feed(
        CaptureFailed(d.last(StartCapture).capture_id, "bad_value", "no clip nosuchclip"),
        after_ms=2,
        note="SPEC §9.2: an unknown clip is bad_value",
    )
    d.feed(ConsoleLine('talk "hello teddy"'), after_ms=100)
    d.feed(
        CaptureFailed(d.last(StartCapture).capture_id, "bad_argument", "no text-to-speech"),
        after_ms=2,
        note="SPEC §9.2: targets without text-to-speech refuse with bad_argument",
    )
    return d


def link_lost_mid_turn() -> Draft:
    d, conn = _connected(
        "link_lost_mid_turn",
        "The WebSocket drops (1006) in the middle of things: an utterance being sent is "
        "abandoned (stop_capture); a `button press` whose source has not opened yet gets its "
        "one reply, cmd.error{bad_argument} (SPEC §9.3), and the late capture_started is "
        "stopped; a reply being played is cut (play_end cut). Reconnect backoff follows.",
        ["6.2", "7.3", "8.2", "8.3", "9.3"],
    )
    d.feed(ConsoleLine("talk hello"), after_ms=100)
    capture = d.last(StartCapture).capture_id
    d.feed(CaptureStarted(capture), after_ms=3)
    d.feed(CaptureChunk(capture, bytes(12)), after_ms=128)
    d.feed(WsClosed(conn, 1006, ""), after_ms=50, note="listening: the utterance is abandoned")
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.feed(ConsoleLine("button press"), after_ms=100)
    capture = d.last(StartCapture).capture_id
    d.feed(WsClosed(conn, 1006, ""), after_ms=1, note="the command still owes its reply")
    d.feed(CaptureStarted(capture), after_ms=3, note="too late: stopped, no second reply")
    fire(d, "ws_retry")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.feed(ConsoleLine("text hi"), after_ms=100)
    d.feed(WsText(conn, audio_frame("r1", 0, bytes(4), final=False, text="Hi!")), after_ms=200)
    d.feed(WsClosed(conn, 1006, ""), after_ms=20, note="speaking: the reply is cut")
    d.feed(PlaybackDone("r1"), after_ms=30)
    return d


def link_lost() -> Draft:
    d = Draft(
        "link_lost",
        "Blank flash against a server whose config says another ws_path: error{config_mismatch} "
        "and the claim's websocket_url is used (SPEC §4.1). Then the station loses its link: "
        "ws.close{1006}, no retries without Wi-Fi, wifi.down, offline; when it is back the "
        "boot sequence resumes from the config (SPEC §4.3).",
        ["4.1", "4.3", "6.2", "8.2", "8.3"],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(
        200, config_body(ws_path="/ws/esp32/connect"), headers={"etag": CONFIG_ETAG}, after_ms=5
    )
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, claim_body(), after_ms=30, note="SPEC §4.1: ws_path != websocket_url path")
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    d.answer(404, error_body("no_release"), after_ms=4)
    d.feed(WifiDown(), after_ms=1000, note="the link dropped: 1006, then wifi.down")
    d.feed(WifiUp("10.0.2.15"), after_ms=3000)
    d.answer(304, headers={"etag": CONFIG_ETAG}, after_ms=5)
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2)
    return d


def panic_marker() -> Draft:
    d = Draft(
        "panic_marker",
        "The behaviour marker's panic_after_ms (an emulated-firmware test hook, "
        "emulator/README.md): the core arms the panic timer at boot and, when it fires, "
        "resets with reset_reason panic (a crash, SPEC §5.5 rollback reason).",
        ["5.5", "8.2"],
        boot={"panic_after_ms": 250},
        nonces=[],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    fire(d, "panic")
    return d


def busy_and_timeout() -> Draft:
    d, conn = _connected(
        "busy_and_timeout",
        "SPEC §6.3, §6.5 rule 11: `busy` (with retry_after_ms, an extra member) and "
        "`utterance_timeout` answer a turn like any reply error: error{code} is printed and "
        "the device is idle again (status shows no pending turn).",
        ["6.3", "6.4", "6.5", "8.2"],
    )
    d.feed(ConsoleLine("text hi"), after_ms=100)
    busy = ErrorMessage("busy", "speech capacity busy", retry_after_ms=12500)
    d.feed(WsText(conn, server_msg(busy)), after_ms=50, note="SPEC §6.5 rule 11")
    d.feed(ConsoleLine("status"), after_ms=10)
    d.feed(ConsoleLine("text again"), after_ms=100)
    timeout = ErrorMessage("utterance_timeout", "no audio_chunk for 5 s (silence limit)")
    d.feed(WsText(conn, server_msg(timeout)), after_ms=50, note="SPEC §6.6 time limits")
    d.feed(ConsoleLine("status"), after_ms=10)
    return d


CHAT_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "busy_and_timeout": busy_and_timeout,
    "reply_framing": reply_framing,
    "server_frames": server_frames,
    "push_to_talk": push_to_talk,
    "link_lost": link_lost,
    "link_lost_mid_turn": link_lost_mid_turn,
    "panic_marker": panic_marker,
}
