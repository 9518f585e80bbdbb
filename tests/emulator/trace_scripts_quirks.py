"""Trace scripts of the device quirks (SPEC Appendix C) and their console command (§9.2).

Recorded by tests.emulator.trace_draft like trace_scripts (review every expectation
against SPEC before committing). Each quirk is switched on with `quirk on` (RAM only),
so the traces also pin the command's replies and refusals (SPEC §9.3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from emulator.core.effects import StartCapture, WsConnect
from emulator.core.inputs import (
    CaptureChunk,
    CaptureEnded,
    CaptureStarted,
    ConsoleLine,
    PlaybackDone,
    TimeSynced,
    WifiUp,
    WsOpened,
    WsRefused,
    WsText,
)
from protocol.messages import TextResponse
from tests.emulator.trace_draft import Draft
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

# An unsigned token (`alg: none`), what the quirk present_token sends instead (§3.1).
FORGED: Final = "eyJhbGciOiJub25lIn0.e30."


def quirks_claim_and_link() -> Draft:
    d = Draft(
        "quirks_claim_and_link",
        "SPEC Appendix C through the §9.2 `quirk` command: its replies and refusals; "
        "reuse_nonce sends the first claim's nonce again after a 409 and after a refusal "
        "drops the tokens (one nonce drawn in all); present_token puts a forged token in "
        "the Bearer header; no_percent_encoding sends `Sam Lee` raw; omit_authorization "
        "drops the header.",
        ["2.3", "2.6", "6.1", "9.2", "9.3", "C"],
        build={"child_name": "Sam Lee"},
    )
    d.start()
    for line in (
        "quirk",
        "quirk on reuse_nonce",
        f"quirk on present_token {FORGED}",
        "quirk on no_percent_encoding",
        "quirk on nope",
        "quirk on present_token",
        "quirk on reuse_nonce now",
        "quirk sideways",
    ):
        d.feed(ConsoleLine(line), after_ms=1)
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.answer(200, config_body(), headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10, note="SPEC §2.3: the one nonce this trace draws")
    d.answer(409, error_body("nonce_reused"), after_ms=30, note="SPEC §2.6: back off")
    fire(d, "claim_retry", note="reuse_nonce: the same nonce again (Appendix C)")
    d.answer(200, claim_body(), after_ms=30, note="present_token, no_percent_encoding")
    conn = d.last(WsConnect).conn_id
    d.feed(WsRefused(conn, 403, error_body("invalid_token")), after_ms=5)
    d.answer(200, refresh_body(1), after_ms=20, note="SPEC §6.1: refresh, reconnect once")
    d.feed(ConsoleLine("quirk off present_token"), after_ms=2)
    d.feed(ConsoleLine("quirk on omit_authorization"), after_ms=1)
    conn = d.last(WsConnect).conn_id
    d.feed(
        WsRefused(conn, 403, error_body("invalid_token")),
        after_ms=5,
        note="SPEC §6.1: the second refusal drops the tokens and claims (reuse_nonce)",
    )
    d.answer(200, claim_body(), after_ms=30, note="omit_authorization: no header at all")
    return d


def quirks_chat() -> Draft:
    d = Draft(
        "quirks_chat",
        "SPEC Appendix C on the chat: ignore_etag sends the config GET without "
        "If-None-Match; send_handshake sends the original firmware's four messages on "
        "connection_established; audio_before_start sends chunk 0 before audio_start; "
        "audio_end_before_final sends audio_end before the final chunk; `quirk off` lists "
        "what is left.",
        ["4.3", "6.3", "6.5", "7.2", "9.2", "9.3", "C"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    d.start()
    for line in (
        "quirk on ignore_etag",
        "quirk on send_handshake",
        "quirk on audio_before_start",
        "quirk on audio_end_before_final",
    ):
        d.feed(ConsoleLine(line), after_ms=1)
    d.feed(WifiUp("10.0.2.15"), after_ms=20, note="ignore_etag: no If-None-Match")
    d.answer(200, config_body(), headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, refresh_body(1), after_ms=30)
    conn = d.last(WsConnect).conn_id
    d.feed(WsOpened(conn), after_ms=5)
    d.feed(WsText(conn, hello()), after_ms=2, note="send_handshake: four legacy messages")
    d.answer(404, error_body("no_release"), after_ms=4)
    d.feed(ConsoleLine("talk hello"), after_ms=100)
    capture = d.last(StartCapture).capture_id
    d.feed(CaptureStarted(capture), after_ms=3, note="audio_before_start: no audio_start yet")
    d.feed(CaptureChunk(capture, bytes(range(20))), after_ms=128, note="chunk 0, audio_start")
    d.feed(CaptureEnded(capture), after_ms=128, note="audio_end_before_final")
    d.feed(ConsoleLine("quirk off send_handshake"), after_ms=5)
    return d


def _samples(*values: int) -> bytes:
    return b"".join(v.to_bytes(2, "little", signed=True) for v in values)


# Loud and quiet samples: playback_gain 4 saturates the loud ones at full scale.
_LOUD: Final = _samples(1000, -1000, 20000, -20000)


def quirks_playback() -> Draft:
    d = Draft(
        "quirks_playback",
        "SPEC Appendix C playback quirks: the events and `received` (rx-<id>.wav) stay what "
        "the server sent while `play` carries what the DAC plays: playback_rate 22050 sets "
        "its sample_rate (defect 10), drop_frames 3 plays nothing of seq 2 and 5, "
        "playback_gain 4 saturates at full scale, mute_playback plays zeros of the frame's "
        "length; an integer quirk's bad value is refused (bad_value), `quirk off` restores "
        "16000 Hz and the frames as sent.",
        ["7.1", "7.3", "8.2", "9.2", "9.3", "C"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    conn = to_idle(d, stored=True)
    for line in (
        "quirk on playback_rate 22050",
        "quirk on playback_rate fast",
        "quirk on drop_frames 0",
        "quirk on playback_gain 4.5",
        "quirk on drop_frames 3",
        "quirk on playback_gain 4",
    ):
        d.feed(ConsoleLine(line), after_ms=1)
    d.feed(ConsoleLine("text hi"), after_ms=100)
    d.feed(WsText(conn, server_msg(TextResponse("Hi!"))), after_ms=200)
    for seq in range(6):
        frame = audio_frame("p1", seq, _LOUD, final=seq == 5, text="Hi!" if seq == 0 else None)
        note = "drop_frames 3: seq % 3 == 2 is not played" if seq % 3 == 2 else ""
        d.feed(WsText(conn, frame), after_ms=2, note=note)
    d.feed(PlaybackDone("p1"), after_ms=50)
    for line in ("quirk off drop_frames", "quirk off playback_gain", "quirk on mute_playback"):
        d.feed(ConsoleLine(line), after_ms=1)
    d.feed(ConsoleLine("text more"), after_ms=100)
    d.feed(WsText(conn, audio_frame("p2", 0, _LOUD, final=False, text="A")), after_ms=200)
    d.feed(WsText(conn, audio_frame("p2", 1, _LOUD, final=True)), after_ms=2)
    d.feed(PlaybackDone("p2"), after_ms=50)
    for line in ("quirk off mute_playback", "quirk off playback_rate"):
        d.feed(ConsoleLine(line), after_ms=1)
    d.feed(ConsoleLine("text again"), after_ms=100)
    d.feed(
        WsText(conn, audio_frame("p3", 0, _LOUD, final=True, text="B")),
        after_ms=200,
        note="no playback quirk: 16000 Hz, the frame as sent, received empty",
    )
    d.feed(PlaybackDone("p3"), after_ms=50)
    return d


QUIRK_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "quirks_claim_and_link": quirks_claim_and_link,
    "quirks_chat": quirks_chat,
    "quirks_playback": quirks_playback,
}
