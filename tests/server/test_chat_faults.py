"""The armed chat faults (cut_reply, drop_first_chunk; SPEC §11.4) as the wire shows them.

Each test compares a faulted exchange with the same exchange unfaulted on the same server,
so the fault's effect is what differs: the frames a reply is sent in, what the recogniser
was fed (the scripted engine's digest of its stream), `chat.utterance{bytes}`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.legacy.client import WebSocketClientProtocol

from server.chat_session import ChatSession, cut_frames
from server.embedded import EmbeddedServer
from server.events import EventQueue, ServerEvent
from server.settings import ServerSettings
from server.speech.scripted import ScriptedSpeechToText, pcm_digest
from server.state import ServerState, build_state
from tests.server.helpers import scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect, recv_json, send_json

pytestmark = pytest.mark.emu

CHUNK = 4096
# Three chunks of distinct audio: a lost first chunk changes the digest and the byte count.
CHUNKS = [bytes([n]) * CHUNK for n in (1, 2, 3)]
TS = "2026-01-01T00:00:00.000+00:00"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "data")
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


def _state(server: EmbeddedServer) -> ServerState:
    assert server.state is not None
    return server.state


def _next(events: EventQueue, name: str) -> ServerEvent:
    while True:
        event = events.get(timeout=10)
        assert event is not None, f"no {name} event within 10 s"
        if event.name == name:
            return event


async def _reply(ws: WebSocketClientProtocol) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The next text_response and its audio_response frames up to the one with is_final."""
    while (text := await recv_json(ws))["type"] != "text_response":
        pass
    frames: list[dict[str, Any]] = []
    while not frames or not frames[-1]["is_final"]:
        frame = await recv_json(ws)
        assert frame["type"] == "audio_response", frame
        frames.append(frame)
    return text, frames


async def _talk(ws: WebSocketClientProtocol, sid: str) -> None:
    await send_json(ws, {"type": "audio_start", "audio_session_id": sid})
    for n, pcm in enumerate(CHUNKS):
        chunk = {"type": "audio_chunk", "audio_session_id": sid, "chunk_id": n}
        last = n == len(CHUNKS) - 1
        await send_json(
            ws, {**chunk, "audio_data": base64.b64encode(pcm).decode(), "is_final": last}
        )


async def test_cut_reply_sends_half_the_frames_the_last_final(server: EmbeddedServer) -> None:
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    events = _state(server).events.subscribe()
    ask: dict[str, object] = {"type": "text_message", "text": "tell me about dinosaurs"}
    await send_json(ws, ask)
    whole_text, whole = await _reply(ws)
    assert len(whole) >= 4, "the reply must span frames for a cut to show"

    _state(server).faults.inject("cut_reply")
    await send_json(ws, ask)
    cut_text, cut = await _reply(ws)
    assert len(cut) == len(whole) // 2
    assert [f["is_final"] for f in cut] == [False] * (len(cut) - 1) + [True]
    assert [f["seq"] for f in cut] == list(range(len(cut)))
    assert cut[0]["text"] == whole[0]["text"] and cut_text["text"] == whole_text["text"]
    # The audio sent is the whole reply's first half of frames, byte for byte.
    assert [f["audio_data"] for f in cut] == [f["audio_data"] for f in whole[: len(cut)]]
    fired = _next(events, "fault.injected").data
    assert fired == {
        "device_id": "teddy-esp32-001",
        "kind": "cut_reply",
        "audio_session_id": cut[0]["audio_session_id"],
    }

    await send_json(ws, ask)  # used up: the next reply is whole again
    assert len((await _reply(ws))[1]) == len(whole)
    await ws.close()
    events.close()


async def test_drop_first_chunk_keeps_it_from_the_recogniser(server: EmbeddedServer) -> None:
    state = _state(server)
    stt = state.pipeline.stt
    assert isinstance(stt, ScriptedSpeechToText)
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    events = state.events.subscribe()

    await _talk(ws, "u-whole")
    await _reply(ws)
    assert _next(events, "chat.utterance").data["bytes"] == 3 * CHUNK
    assert stt.heard[-1] == pcm_digest(b"".join(CHUNKS))

    state.faults.inject("drop_first_chunk")  # armed before the utterance opens
    await _talk(ws, "u-robbed")
    text, _ = await _reply(ws)  # still answered: the loss is silent
    assert text["audio_session_id"] == "u-robbed"
    fired = _next(events, "fault.injected").data
    assert fired["kind"] == "drop_first_chunk" and fired["audio_session_id"] == "u-robbed"
    assert _next(events, "chat.utterance").data["bytes"] == 2 * CHUNK
    assert stt.heard[-1] == pcm_digest(b"".join(CHUNKS[1:]))
    await ws.close()
    events.close()


def _session() -> ChatSession:
    ids = iter(f"gen-{n}" for n in range(100))
    return ChatSession(session_id="s-1", child_name="Mia", new_id=lambda: next(ids))


def test_cut_frames_keeps_one_frame_of_a_one_frame_reply() -> None:
    session = _session()
    frames = [
        s.text
        for s in session.reply(
            audio_session_id="u", transcript="x", text="hi", pcm=bytes(100), timestamp=TS
        )
    ]
    assert cut_frames(frames[1:]) == frames[1:]  # already final: nothing to cut


def test_an_armed_cut_is_used_once_and_reported() -> None:
    fired: list[tuple[str, str]] = []
    ids = iter(f"gen-{n}" for n in range(100))
    session = ChatSession(
        session_id="s",
        child_name="Mia",
        new_id=lambda: next(ids),
        fault_fired=lambda k, s: fired.append((k, s)),
    )
    pcm = bytes(range(256)) * 64  # 16 KiB: 4 or 5 frames
    whole = session.reply(audio_session_id="u1", transcript="", text="t", pcm=pcm, timestamp=TS)
    session.arm("cut_reply")
    cut = session.reply(audio_session_id="u2", transcript="", text="t", pcm=pcm, timestamp=TS)
    again = session.reply(audio_session_id="u3", transcript="", text="t", pcm=pcm, timestamp=TS)
    assert len(cut) - 1 == (len(whole) - 1) // 2 and len(again) == len(whole)
    assert fired == [("cut_reply", "u2")]
    with pytest.raises(ValueError, match="not an armed chat fault"):
        session.arm("invalid_json")
