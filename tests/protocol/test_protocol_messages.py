"""protocol.messages: vectors, exact error codes and encode/parse round trips (SPEC §6.3, §6.4)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.constants import DOWNLINK_MAX_FRAME_BYTES, UPLINK_MAX_FRAME_BYTES
from protocol.errors import MessageError
from protocol.messages import (
    AudioChunk,
    AudioEnd,
    AudioResponse,
    AudioStart,
    ErrorMessage,
    Heartbeat,
    Message,
    SystemMessage,
    TextMessage,
    TextResponse,
    encode_message,
    parse_device_message,
    parse_server_message,
)
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

VALID = vector_cases("messages_valid")
INVALID = vector_cases("messages_invalid")
TS = "2025-01-01T00:00:00+00:00"


def _parse(direction: str, text: str, max_bytes: int | None = None) -> Message:
    if direction == "device":
        limit = UPLINK_MAX_FRAME_BYTES if max_bytes is None else max_bytes
        return parse_device_message(text, max_bytes=limit)
    limit = DOWNLINK_MAX_FRAME_BYTES - 1 if max_bytes is None else max_bytes
    return parse_server_message(text, max_bytes=limit)


@pytest.mark.parametrize("case", VALID, ids=[c["id"] for c in VALID])
def test_valid_vector(case: dict[str, Any]) -> None:
    msg = _parse(case["direction"], case["text"])
    assert case["type"] == msg.TYPE
    attrs = dataclasses.asdict(msg)
    for name, expected in case["fields"].items():
        if name == "pcm_hex":
            assert attrs["pcm"].hex() == expected
        else:
            assert attrs[name] == expected, name
    # Re-encoding gives a frame that parses to the same message.
    timestamp = json.loads(case["text"]).get("timestamp") if case["direction"] == "server" else None
    assert _parse(case["direction"], encode_message(msg, timestamp=timestamp)) == msg


@pytest.mark.parametrize("case", INVALID, ids=[c["id"] for c in INVALID])
def test_invalid_vector(case: dict[str, Any]) -> None:
    with pytest.raises(MessageError) as info:
        _parse(case["direction"], case["text"], case.get("max_bytes"))
    assert info.value.code == case["error_code"]
    assert info.value.field == case["field"]
    if case["field"]:
        assert case["field"] in info.value.message


def test_default_uplink_limit_is_16384_bytes() -> None:
    base = encode_message(Heartbeat({"pad": ""}))
    fits = encode_message(Heartbeat({"pad": "x" * (UPLINK_MAX_FRAME_BYTES - len(base))}))
    assert len(fits.encode()) == UPLINK_MAX_FRAME_BYTES
    assert isinstance(parse_device_message(fits), Heartbeat)
    with pytest.raises(MessageError) as info:
        parse_device_message(fits[:-2] + 'x"}')
    assert info.value.code == "message_too_large"


def test_deep_nesting_is_invalid_json_not_a_crash() -> None:
    with pytest.raises(MessageError, match="invalid_json"):
        parse_device_message("[" * 8000 + "]" * 8000)
    with pytest.raises(MessageError, match="invalid_json"):
        parse_device_message('{"type":"heartbeat","x":' + "[" * 8000 + "]" * 8000 + "}")


def test_size_counts_utf8_bytes_not_characters() -> None:
    text = encode_message(TextMessage("ü" * 20))
    assert len(text) < 64 < len(text.encode())
    with pytest.raises(MessageError, match="message_too_large"):
        parse_device_message(text, max_bytes=64)


def test_default_downlink_limit_is_below_8192() -> None:
    base = encode_message(TextResponse(""), timestamp=TS)
    size = DOWNLINK_MAX_FRAME_BYTES - len(base)
    assert parse_server_message(encode_message(TextResponse("x" * (size - 1)), timestamp=TS))
    with pytest.raises(MessageError, match="message_too_large"):
        parse_server_message(encode_message(TextResponse("x" * size), timestamp=TS))


def test_timestamp_can_be_optional_for_server_messages() -> None:
    text = encode_message(SystemMessage.heartbeat_response())
    msg = parse_server_message(text, require_timestamp=False)
    assert msg == SystemMessage("heartbeat_response", {"session_status": "active"})


def test_encoding_is_compact_with_type_first_and_timestamp_last() -> None:
    text = encode_message(AudioEnd("u1"), timestamp=TS)
    assert text == '{"type":"audio_end","audio_session_id":"u1","timestamp":"' + TS + '"}'
    ack = encode_message(SystemMessage.audio_start_ack(audio_session_id="u1"))
    data = '{"type":"audio_start_ack","audio_session_id":"u1","status":"ready"}'
    assert ack == '{"type":"system","data":' + data + "}"
    hello = SystemMessage.connection_established(session_id="s", message="Hi", server_time=TS)
    assert parse_server_message(encode_message(hello, timestamp=TS)) == hello


def test_audio_response_encodes_format_fields() -> None:
    body = json.loads(encode_message(AudioResponse("u", 0, b"\x01\x00", True, "hi")))
    assert body["format"] == "pcm_s16le" and body["sample_rate"] == 16000 and body["channels"] == 1
    assert body["audio_data"] == "AQA=" and body["text"] == "hi"


SESSION = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
PCM = st.binary(max_size=600).map(lambda b: b[: len(b) // 2 * 2])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
DEVICE_MESSAGES = st.one_of(
    st.builds(AudioStart, st.none() | SESSION),
    st.builds(
        AudioChunk,
        PCM,
        st.integers(0, 2**31) | st.from_regex(r"[0-9]{1,10}_[0-9]{4}", fullmatch=True),
        st.none() | SESSION,
        st.booleans(),
    ),
    st.builds(AudioEnd, SESSION),
    st.builds(Heartbeat, st.dictionaries(st.sampled_from(["device_id", "status", "n"]), JSONISH)),
    st.builds(TextMessage, TEXT.filter(lambda t: bool(t.strip()) and len(t) <= 1000)),
)
SERVER_MESSAGES = st.one_of(
    st.builds(SystemMessage.heartbeat_response),
    st.builds(lambda s: SystemMessage.audio_start_ack(audio_session_id=s), SESSION),
    st.builds(TextResponse, TEXT, st.none() | TEXT, st.none() | SESSION),
    st.builds(
        lambda sid, seq, pcm, final, text: AudioResponse(
            sid, seq, pcm, final, text if seq == 0 else None
        ),
        SESSION,
        st.integers(0, 1000),
        PCM,
        st.booleans(),
        st.none() | TEXT,
    ),
    st.builds(ErrorMessage, st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True), TEXT),
)


@given(DEVICE_MESSAGES)
def test_device_message_round_trip(msg: Any) -> None:
    assert parse_device_message(encode_message(msg)) == msg


@given(SERVER_MESSAGES)
def test_server_message_round_trip(msg: Any) -> None:
    text = encode_message(msg, timestamp=TS)
    assert parse_server_message(text, max_bytes=None) == msg


@given(st.text(max_size=50))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        parse_device_message(text)
    except MessageError as exc:
        assert exc.code in {"invalid_json", "invalid_message", "unknown_message_type", "empty_text"}
