"""The sans-I/O chat session core, driven without a socket (SPEC §6.3-§6.5)."""

from __future__ import annotations

import base64
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.chat_session import (
    Action,
    ChatSession,
    ProcessText,
    Send,
    UtteranceAborted,
    UtteranceAudio,
    UtteranceEnded,
    UtteranceLimits,
    UtteranceStarted,
)

pytestmark = pytest.mark.unit

TS = "2026-11-26T12:00:00.000+00:00"
PCM = bytes(range(256)) * 16  # 4096 bytes


def _session() -> ChatSession:
    counter = itertools.count()
    return ChatSession(session_id="s-1", child_name="Mia", new_id=lambda: f"gen-{next(counter)}")


def _frames(actions: list[Action]) -> list[dict[str, object]]:
    return [json.loads(a.text) for a in actions if isinstance(a, Send)]


def _feed(session: ChatSession, message: dict[str, object]) -> list[Action]:
    return session.receive_text(json.dumps(message), timestamp=TS)


def _chunk(sid: str | None, *, final: bool = False, pcm: bytes = PCM) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "audio_chunk",
        "chunk_id": 1,
        "is_final": final,
        "audio_data": base64.b64encode(pcm).decode(),
    }
    if sid is not None:
        body["audio_session_id"] = sid
    return body


def test_connected_greets_the_child() -> None:
    (frame,) = _frames(_session().connected(timestamp=TS))
    assert frame["type"] == "system"
    assert frame["data"] == {
        "type": "connection_established",
        "session_id": "s-1",
        "message": "Hello Mia! I'm ready to chat!",
        "server_time": TS,
    }
    assert frame["timestamp"] == TS


def test_utterance_lifecycle_emits_work_orders() -> None:
    session = _session()
    started = _feed(session, {"type": "audio_start"})
    assert started[0] == UtteranceStarted("gen-0")
    assert _frames(started)[0]["data"] == {
        "type": "audio_start_ack",
        "audio_session_id": "gen-0",
        "status": "ready",
    }
    assert _feed(session, _chunk("gen-0")) == [UtteranceAudio("gen-0", PCM)]
    assert _feed(session, _chunk(None)) == [UtteranceAudio("gen-0", PCM)]
    ended = _feed(session, {"type": "audio_end", "audio_session_id": "gen-0"})
    assert ended == [UtteranceEnded("gen-0", 2 * len(PCM))]
    # A late duplicate end is ignored, not an error (original defect 12).
    assert _feed(session, {"type": "audio_end", "audio_session_id": "gen-0"}) == []


def test_new_audio_start_supersedes_the_open_utterance() -> None:
    session = _session()
    _feed(session, {"type": "audio_start", "audio_session_id": "a"})
    actions = _feed(session, {"type": "audio_start", "audio_session_id": "b"})
    assert actions[:2] == [UtteranceAborted("a"), UtteranceStarted("b")]
    assert _frames(_feed(session, _chunk("a")))[0]["error_code"] == "unknown_audio_session"


def test_too_long_utterance_is_discarded() -> None:
    session = _session()
    _feed(session, {"type": "audio_start", "audio_session_id": "long"})
    big = bytes(16384 * 3 // 4 - 1024)  # base64 keeps the frame under 16 KiB
    sent = 0
    while True:
        actions = _feed(session, _chunk("long", pcm=big))
        if any(isinstance(a, UtteranceAborted) for a in actions):
            break
        sent += len(big)
        assert sent <= 960_000
    assert _frames(actions)[0]["error_code"] == "audio_too_long"


def test_reply_frames_are_text_then_audio_under_8_kib() -> None:
    frames = _session().reply(
        audio_session_id="u", transcript="hi", text="Hello!" * 100, pcm=bytes(64000), timestamp=TS
    )
    decoded = [json.loads(f.text) for f in frames]
    assert decoded[0] == {
        "type": "text_response",
        "text": "Hello!" * 100,
        "transcript": "hi",
        "audio_session_id": "u",
        "timestamp": TS,
    }
    assert all(d["type"] == "audio_response" for d in decoded[1:])
    assert decoded[-1]["is_final"] is True
    assert max(len(f.text.encode()) for f in frames) < 8192


def test_reply_bounds_a_huge_transcript() -> None:
    frames = _session().reply(
        audio_session_id="u", transcript="é" * 50_000, text="ü" * 5000, pcm=b"", timestamp=TS
    )
    assert max(len(f.text.encode()) for f in frames) < 8192


def test_text_message_becomes_a_work_order() -> None:
    assert _feed(_session(), {"type": "text_message", "text": "tell me a joke"}) == [
        ProcessText("tell me a joke")
    ]


@given(st.text(max_size=300))
def test_any_text_frame_gets_at_most_a_reply_never_an_exception(text: str) -> None:
    actions = _session().receive_text(text, timestamp=TS)
    for frame in _frames(actions):
        assert frame["type"] in ("error", "system")


@given(st.binary(max_size=64))
def test_binary_frames_are_refused(data: bytes) -> None:
    (frame,) = _frames(_session().receive_bytes(data, timestamp=TS))
    assert frame["error_code"] == "binary_not_supported"


# -- utterance time limits (SPEC §6.6), time passed in -------------------------------------


def _limited() -> ChatSession:
    return ChatSession(
        session_id="s-1",
        child_name="Mia",
        new_id=lambda: "gen",
        limits=UtteranceLimits(max_s=10.0, silence_s=2.0),
    )


def _at(session: ChatSession, now: float, message: dict[str, object]) -> list[Action]:
    return session.receive_text(json.dumps(message), timestamp=TS, now=now)


def test_no_deadline_without_an_open_utterance() -> None:
    session = _limited()
    assert session.next_deadline() is None
    assert session.expire(now=1e9, timestamp=TS) == []


def test_silence_limit_discards_the_utterance_and_names_the_limit() -> None:
    session = _limited()
    _at(session, 100.0, {"type": "audio_start", "audio_session_id": "u1"})
    _at(session, 101.5, _chunk("u1"))
    assert session.next_deadline() == 103.5  # the chunk moved the silence deadline
    assert session.expire(now=103.4, timestamp=TS) == []
    actions = session.expire(now=103.5, timestamp=TS)
    assert actions[0] == UtteranceAborted("u1")
    (error,) = _frames(actions)
    assert error["error_code"] == "utterance_timeout" and "silence" in str(error["error_message"])
    assert _frames(_at(session, 104.0, _chunk("u1")))[0]["error_code"] == "unknown_audio_session"


def test_wall_clock_limit_holds_for_an_utterance_that_keeps_talking() -> None:
    session = _limited()
    _at(session, 100.0, {"type": "audio_start", "audio_session_id": "u1"})
    for n in range(1, 10):
        _at(session, 100.0 + n, _chunk("u1", pcm=b"\x00\x00" * 16))
    assert session.next_deadline() == 110.0
    actions = session.expire(now=110.0, timestamp=TS)
    (error,) = _frames(actions)
    assert actions[0] == UtteranceAborted("u1")
    assert "wall-clock" in str(error["error_message"])
    assert session.next_deadline() is None
