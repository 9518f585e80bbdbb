"""protocol.audio: chunking, utterance assembly and downlink framing (SPEC §6.5, §6.6, §7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.audio import (
    AudioResponseAssembler,
    UtteranceAssembler,
    b64decode_pcm,
    b64encode_pcm,
    build_audio_response_frames,
    chunk_pcm,
    reassemble_audio_response,
)
from protocol.constants import (
    DOWNLINK_MAX_FRAME_BYTES,
    DOWNLINK_PCM_BYTES,
    MAX_UTTERANCE_BYTES,
    MIN_UTTERANCE_BYTES,
)
from protocol.errors import MessageError
from protocol.messages import AudioResponse, parse_server_message
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

FRAMES = vector_cases("audio_frames")
TS = "2025-01-01T00:00:00.000000+00:00"


def _parse_all(frames: list[str]) -> list[AudioResponse]:
    parsed = [parse_server_message(f) for f in frames]
    assert all(isinstance(p, AudioResponse) for p in parsed)
    return [p for p in parsed if isinstance(p, AudioResponse)]


@pytest.mark.parametrize("case", FRAMES, ids=[c["id"] for c in FRAMES])
def test_audio_frames_vector(case: dict[str, Any]) -> None:
    text = None if case["text_unit"] is None else case["text_unit"] * case["text_count"]
    pcm = bytes(case["pcm_bytes"])

    def build() -> list[str]:
        return build_audio_response_frames(
            audio_session_id=case["audio_session_id"],
            pcm=pcm,
            text=text,
            timestamp=case["timestamp"],
        )

    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(MessageError) as info:
            build()
        assert info.value.code == expect["error"]
        return
    frames = build()
    assert [len(f.encode()) for f in frames] == expect["frame_bytes"]
    parsed = _parse_all(frames)
    assert [len(p.pcm) for p in parsed] == expect["pcm_sizes"]
    assert reassemble_audio_response(parsed) == pcm


@settings(max_examples=60, deadline=None)
@given(
    samples=st.integers(0, 20000),
    text=st.none() | st.text(alphabet=st.characters(codec="utf-8"), max_size=1500),
    session=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
)
def test_frames_always_fit_and_reassemble(samples: int, text: str | None, session: str) -> None:
    pcm = bytes(i % 251 for i in range(samples * 2))
    frames = build_audio_response_frames(audio_session_id=session, pcm=pcm, text=text, timestamp=TS)
    assert all(len(f.encode()) < DOWNLINK_MAX_FRAME_BYTES for f in frames)
    parsed = _parse_all(frames)
    assert [p.seq for p in parsed] == list(range(len(parsed)))
    assert [p.is_final for p in parsed] == [False] * (len(parsed) - 1) + [True]
    assert parsed[0].text == text and all(p.text is None for p in parsed[1:])
    assert all(len(p.pcm) % 2 == 0 and len(p.pcm) <= DOWNLINK_PCM_BYTES for p in parsed)
    assert reassemble_audio_response(parsed) == pcm


def test_first_frame_without_room_for_text_is_refused() -> None:
    with pytest.raises(MessageError, match="processing_error"):
        build_audio_response_frames(audio_session_id="u", pcm=b"", text="a" * 8200, timestamp=TS)


def test_odd_reply_pcm_is_refused() -> None:
    with pytest.raises(MessageError, match="invalid_audio_data"):
        build_audio_response_frames(audio_session_id="u", pcm=b"\x00", text=None, timestamp=TS)


def _frame(seq: int, final: bool, session: str = "u") -> AudioResponse:
    return AudioResponse(session, seq, bytes([seq, 0]), final, "hi" if seq == 0 else None)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([_frame(1, True)], "expected seq 0"),
        ([_frame(0, False), _frame(2, True)], "expected seq 1"),
        ([_frame(0, False), _frame(1, True, "other")], "audio_session_id changed"),
        ([_frame(0, True), _frame(1, True)], "after the final"),
        ([_frame(0, False), _frame(1, False)], "without an is_final"),
        ([], "without an is_final"),
    ],
)
def test_reassembly_errors(frames: list[AudioResponse], message: str) -> None:
    with pytest.raises(MessageError, match=message) as info:
        reassemble_audio_response(frames)
    assert info.value.code == "invalid_message"


def test_response_assembler_is_incremental() -> None:
    assembler = AudioResponseAssembler()
    assert assembler.feed(_frame(0, False)) is False
    assert assembler.feed(_frame(1, True)) is True
    assert (assembler.pcm, assembler.text, assembler.frame_count) == (b"\x00\x00\x01\x00", "hi", 2)


@given(st.binary(max_size=20000).map(lambda b: b[: len(b) // 2 * 2]), st.integers(1, 3000))
def test_chunk_pcm_round_trip(pcm: bytes, half: int) -> None:
    chunks = chunk_pcm(pcm, chunk_bytes=half * 2)
    assert b"".join(chunks) == pcm
    assert all(len(c) == half * 2 for c in chunks[:-1])
    assert all(0 < len(c) <= half * 2 for c in chunks)


@pytest.mark.parametrize("size", [0, -2, 3])
def test_chunk_pcm_bad_size(size: int) -> None:
    with pytest.raises(MessageError):
        chunk_pcm(b"\x00\x00", chunk_bytes=size)


def test_chunk_pcm_default_is_4096() -> None:
    assert [len(c) for c in chunk_pcm(bytes(10000))] == [4096, 4096, 1808]


@given(st.binary(max_size=3000))
def test_b64_round_trip(data: bytes) -> None:
    if len(data) % 2:
        with pytest.raises(MessageError):
            b64decode_pcm(b64encode_pcm(data))
    else:
        assert b64decode_pcm(b64encode_pcm(data)) == data


@pytest.mark.parametrize("bad", ["AAAA\n", "AAA", "AA==AA==", "AAB=", "ÄÄÄÄ", "AAAA====", "-_-_"])
def test_b64_decode_strictness(bad: str) -> None:
    with pytest.raises(MessageError) as info:
        b64decode_pcm(bad)
    assert info.value.code == "invalid_audio_data"


def test_utterance_happy_path() -> None:
    utt = UtteranceAssembler()
    utt.start("u1")
    for chunk in chunk_pcm(bytes(MIN_UTTERANCE_BYTES + 2)):
        assert utt.add(chunk) is None
    assert (utt.active, utt.chunk_count, utt.byte_count) == (True, 1, MIN_UTTERANCE_BYTES + 2)
    assert utt.finish() == bytes(MIN_UTTERANCE_BYTES + 2)
    assert not utt.active


def test_utterance_errors() -> None:
    utt = UtteranceAssembler()
    assert utt.add(b"\x00\x00") == "unknown_audio_session"
    with pytest.raises(MessageError, match="unknown_audio_session"):
        utt.finish()
    utt.start("u1")
    assert utt.add(b"\x00") == "invalid_audio_data"
    with pytest.raises(MessageError, match="no_audio_data"):
        utt.finish()
    utt.start("u2")
    utt.add(bytes(MIN_UTTERANCE_BYTES - 2))
    with pytest.raises(MessageError, match="audio_too_short"):
        utt.finish()


def test_utterance_too_long_is_discarded_at_once() -> None:
    utt = UtteranceAssembler()
    utt.start("u1")
    assert utt.add(bytes(MAX_UTTERANCE_BYTES)) is None
    assert utt.add(b"\x00\x00") == "audio_too_long"
    assert not utt.active
    assert utt.add(b"\x00\x00") == "unknown_audio_session"
    with pytest.raises(MessageError, match="unknown_audio_session"):
        utt.finish()
    utt.start("u2")  # a fresh utterance is accepted again
    assert utt.add(bytes(MIN_UTTERANCE_BYTES)) is None
    assert len(utt.finish()) == MIN_UTTERANCE_BYTES


def test_utterance_chunk_ids_must_match_or_be_absent() -> None:
    utt = UtteranceAssembler()
    utt.start("u1")
    assert utt.add(b"\x00\x00", session_id=None) is None
    assert utt.add(b"\x00\x00", session_id="u1") is None
    assert utt.add(b"\x00\x00", session_id="u2") == "unknown_audio_session"
    assert utt.chunk_count == 2


def test_frames_are_compact_json() -> None:
    (frame,) = build_audio_response_frames(audio_session_id="u", pcm=b"", text=None, timestamp=TS)
    assert json.loads(frame)["audio_data"] == "" and ", " not in frame
