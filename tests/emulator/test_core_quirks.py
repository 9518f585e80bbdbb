"""The device quirks of SPEC Appendix C in the Python core, one test per quirk.

Each test shows the behaviour with the quirk on next to the SPEC behaviour with it off
(the same inputs), so a quirk that stops working, or leaks into a normal device, fails.
The C core is held to the same behaviour by the device traces quirks_claim_and_link and
quirks_chat (tests/emulator/test_device_traces.py, firmware/host/tests).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from emulator.core.context import NvsData
from emulator.core.effects import HttpRequest, StartCapture, WsConnect, WsSend
from emulator.core.inputs import CaptureChunk, CaptureEnded, CaptureStarted, TimerFired, WsText
from protocol.constants import WS_TRANSPORT_MAX_BYTES
from protocol.device import parse_quirk, quirks_from
from protocol.device_model import QUIRKS, Quirk
from protocol.messages import DEVICE_MESSAGE_TYPES
from tests.emulator.core_driver import Driver, claim_body, error_body, hello_frame

pytestmark = pytest.mark.unit


def _nonce(request: HttpRequest) -> str:
    return str(json.loads(request.body or "")["nonce"])


def _claims(d: Driver) -> list[HttpRequest]:
    return [r for r in d.all(HttpRequest) if r.url.endswith("/pair/claim")]


def _sent(d: Driver) -> list[dict[str, object]]:
    return [json.loads(s.text) for s in d.all(WsSend)]


@pytest.mark.parametrize("on", [False, True])
def test_reuse_nonce_sends_the_previous_claims_nonce(on: bool) -> None:
    d = Driver(fresh_nonces=True, quirks={"reuse_nonce": ""} if on else {})
    d.to_claim()
    d.answer(409, error_body("nonce_reused"))
    d.feed(TimerFired("claim_retry", d.timer("claim_retry").at_ms))
    d.line("claim")  # a third claim: `claim` drops the tokens and claims now
    first, second, third = (_nonce(r) for r in _claims(d))
    assert (first == second == third) is on
    assert len({first, second, third}) == (1 if on else 3)


@pytest.mark.parametrize("on", [False, True])
def test_retry_same_nonce_retries_a_401_with_its_nonce(on: bool) -> None:
    d = Driver(fresh_nonces=True, quirks={"retry_same_nonce": ""} if on else {})
    d.to_claim()
    d.answer(401, error_body("invalid_signature"))
    fail = d.named("claim.fail")[-1]
    if not on:  # SPEC §2.6: a 401 invalid_signature stops
        assert fail["retry_in_ms"] == 0 and len(_claims(d)) == 1
        return
    assert int(str(fail["retry_in_ms"])) > 0
    d.feed(TimerFired("claim_retry", d.timer("claim_retry").at_ms))
    d.answer(409, error_body("nonce_reused"))  # a 409 retries with a fresh nonce again
    d.feed(TimerFired("claim_retry", d.timer("claim_retry").at_ms))
    nonces = [_nonce(r) for r in _claims(d)]
    assert nonces[0] == nonces[1] != nonces[2]


@pytest.mark.parametrize(
    ("quirks", "authorization"),
    [
        ({}, "Bearer access-1"),
        ({"omit_authorization": ""}, None),
        ({"present_token": "forged.token"}, "Bearer forged.token"),
    ],
)
def test_upgrade_authorization(quirks: dict[Quirk, str], authorization: str | None) -> None:
    d = Driver(quirks=quirks)
    connect = d.to_ws()
    assert dict(connect.headers).get("Authorization") == authorization


@pytest.mark.parametrize("on", [False, True])
def test_no_percent_encoding_sends_query_values_raw(on: bool) -> None:
    d = Driver(quirks={"no_percent_encoding": ""} if on else {})
    d.to_claim()
    d.line("set child_name 'Sam Lee'")
    d.answer(200, claim_body())
    query = urlsplit(d.last(WsConnect).url).query
    assert ("child_name=Sam Lee&" in query) is on
    assert ("child_name=Sam%20Lee&" in query) is not on


@pytest.mark.parametrize("on", [False, True])
def test_send_handshake_sends_the_legacy_types_on_connect(on: bool) -> None:
    d = Driver(quirks={"send_handshake": ""} if on else {})
    d.to_idle()
    types = [m["type"] for m in _sent(d)]
    legacy = ["handshake", "stream_ack", "auth/refresh", "system_status"]
    assert types == (legacy if on else [])
    assert not set(types) & set(DEVICE_MESSAGE_TYPES)  # none of them is a §6.3 type


@pytest.mark.parametrize(
    ("quirks", "order"),
    [
        ({}, ["audio_start", "audio_chunk", "audio_chunk", "audio_chunk(final)", "audio_end"]),
        (
            {"audio_before_start": ""},
            ["audio_chunk", "audio_start", "audio_chunk", "audio_chunk(final)", "audio_end"],
        ),
        (
            {"audio_end_before_final": ""},
            ["audio_start", "audio_chunk", "audio_chunk", "audio_end", "audio_chunk(final)"],
        ),
    ],
)
def test_utterance_order(quirks: dict[Quirk, str], order: list[str]) -> None:
    """SPEC §6.5/§7.2 order, and what each quirk changes (4096-byte chunks + a rest)."""
    d = Driver(quirks=quirks)
    d.to_idle()
    d.line("talk hello")
    capture_id = d.last(StartCapture).capture_id
    d.feed(CaptureStarted(capture_id))
    d.feed(CaptureChunk(capture_id, bytes(2 * 4096 + 100)))
    d.feed(CaptureEnded(capture_id))
    sent = [
        f"{m['type']}{'(final)' if m.get('is_final') else ''}"
        for m in _sent(d)
        if str(m["type"]).startswith("audio")
    ]
    assert sent == order


@pytest.mark.parametrize("on", [False, True])
def test_ignore_etag_drops_if_none_match(on: bool) -> None:
    nvs: NvsData = {
        "cfg": {"body": '{"heartbeat_interval":30}', "etag": '"e1"'},
        "ota": {"mf_body": '{"version":"1.0.0"}', "mf_etag": '"m1"'},
    }
    d = Driver(nvs=nvs, quirks={"ignore_etag": ""} if on else {})
    d.to_claim()
    config = next(r for r in d.all(HttpRequest) if r.url.endswith("/esp32/config"))
    assert (dict(config.headers).get("If-None-Match") is None) is on
    d.answer(200, claim_body())
    d.feed(WsText(d.last(WsConnect).conn_id, hello_frame()))
    manifest = d.last(HttpRequest)  # the first §5.4 check after ws.open
    assert "/esp32/firmware?" in manifest.url
    assert (dict(manifest.headers).get("If-None-Match") is None) is on


@pytest.mark.parametrize("on", [False, True])
def test_oversize_frame_pads_a_text_message_past_the_transport_limit(on: bool) -> None:
    d = Driver(quirks={"oversize_frame": ""} if on else {})
    d.to_idle()
    d.line("text hello")
    frame = d.last(WsSend).text
    message = json.loads(frame)
    assert message["type"] == "text_message" and message["text"] == "hello"
    assert (len(frame.encode()) == WS_TRANSPORT_MAX_BYTES + 1) is on
    assert ("padding" in message) is on


def test_quirk_command_switches_and_lists_in_model_order() -> None:
    d = Driver(quirks={"ignore_etag": ""})
    d.line("quirk")
    d.line("quirk on present_token abc")
    d.line("quirk on reuse_nonce")
    d.line("quirk off ignore_etag")
    d.line("quirk off ignore_etag")  # already off: still ok, same list
    replies = [r["quirks"] for r in d.named("cmd.ok")]
    assert replies == [
        ["ignore_etag"],
        ["present_token", "ignore_etag"],
        ["reuse_nonce", "present_token", "ignore_etag"],
        ["reuse_nonce", "present_token"],
        ["reuse_nonce", "present_token"],
    ]
    assert d.device.ctx.quirks == {"reuse_nonce": "", "present_token": "abc"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("quirk on", "missing_argument"),
        ("quirk on nope", "bad_argument"),
        ("quirk toggle reuse_nonce", "bad_argument"),
        ("quirk on present_token", "missing_argument"),
        ("quirk on reuse_nonce yes", "extra_argument"),
        ("quirk off present_token abc", "extra_argument"),
        ('quirk on present_token "abc', "bad_quoting"),
    ],
)
def test_quirk_command_refusals(line: str, reason: str) -> None:
    d = Driver()
    d.line(line)
    (error,) = d.named("cmd.error")
    assert (error["cmd"], error["reason"]) == ("quirk", reason)
    assert d.device.ctx.quirks == {}


def test_quirks_are_ram_only() -> None:
    """SPEC Appendix C: no NVS write, and a new boot starts with the build's quirks only."""
    d = Driver(quirks={"ignore_etag": ""})
    before = len(d.effects)
    d.line("quirk on reuse_nonce")
    assert not [e for e in d.effects[before:] if type(e).__name__ in ("NvsSet", "NvsErase")]
    again = Driver(quirks={"ignore_etag": ""})
    assert again.device.ctx.quirks == {"ignore_etag": ""}


def test_quirk_spellings_of_the_command_line_and_the_scenario() -> None:
    assert parse_quirk("reuse_nonce") == ("reuse_nonce", "")
    assert parse_quirk("present_token=a.b.c") == ("present_token", "a.b.c")
    for bad, why in (
        ("nope", "unknown quirk"),
        ("reuse_nonce=1", "takes no value"),
        ("present_token", "needs a value"),
        ("present_token=", "needs a value"),
        ("present_token=a b", "needs a value"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_quirk(bad)
    assert quirks_from(["reuse_nonce", {"present_token": "t"}]) == (
        ("reuse_nonce", ""),
        ("present_token", "t"),
    )
    with pytest.raises(ValueError, match=r"device.quirks\[0\]"):
        quirks_from([{"reuse_nonce": "x", "ignore_etag": "y"}])
    assert set(QUIRKS) >= {"reuse_nonce", "present_token"}


def test_an_integer_quirk_takes_an_integer_in_its_range() -> None:
    """SPEC Appendix C: playback_rate, drop_frames, playback_gain name their range."""
    assert parse_quirk("playback_rate=22050") == ("playback_rate", "22050")
    assert quirks_from([{"drop_frames": 5}]) == (("drop_frames", "5"),)  # YAML's integer
    for bad in ("playback_rate=fast", "playback_rate=3999", "drop_frames=0", "playback_gain=4.5"):
        with pytest.raises(ValueError, match=r"must be an integer \d+\.\.\d+, got"):
            parse_quirk(bad)
    with pytest.raises(ValueError, match=r"must be an integer 1\.\.1000"):
        quirks_from([{"playback_gain": 0}])
    d = Driver()
    for line, reason in (
        ("quirk on playback_gain 1001", "bad_value"),
        ("quirk on playback_gain", "missing_argument"),
        ("quirk on mute_playback 1", "extra_argument"),
        ("quirk on playback_gain 1000", None),
    ):
        before = len(d.effects)
        d.line(line)
        printed = " ".join(str(getattr(e, "line", "")) for e in d.effects[before:])
        assert (f'"reason":"{reason}"' if reason else "cmd.ok") in printed, (line, printed)
