"""The audio that crossed the tap as files (hil.tap.wire_audio).

Fed frames that wsproto wrote, the observer's files hold exactly the PCM of the messages;
bad members and a broken folder never reach the records or the relay; and on a real
emulator run the files equal what the device itself recorded as sent and received.
"""

from __future__ import annotations

import asyncio
import base64
import json
import wave
from pathlib import Path

import pytest
from wsproto.frame_protocol import FrameProtocol

from hil.result import Status
from hil.runner.server_setup import SERVER_AUDIO_DIR
from hil.streams import ScenarioClock, WireLog
from hil.tap.http import Upgrade
from hil.tap.records import DOWN, UP
from hil.tap.tap import WireTap
from hil.tap.websocket import WebSocketObserver
from hil.tap.wire_audio import MAX_FILE_BYTES, SIDECAR_KEYS, WIRE_AUDIO_DIR, WireAudio
from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.state import build_state
from tests.hil.conftest import run_on_emulator
from tests.hil_tap.helpers import Collected
from tests.server.helpers import scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect, recv_json, send_json

TS = "2026-01-01T00:00:00.000+00:00"


def pcm_of(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return wav.readframes(wav.getnframes()), wav.getframerate()


def sidecar(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert tuple(data) == SIDECAR_KEYS
    return data


class Wire:
    """A decoder with wire audio on, and both ends' frame writers."""

    def __init__(self, folder: Path) -> None:
        self.got = Collected()
        self.audio = WireAudio(folder, problems=self.got.problems.append)
        self.conn = self.audio.connection(1)
        self.got.rec.audio = self.conn.message
        upgrade = Upgrade(b"", b"", [], [["Upgrade", "websocket"]])
        self.ws = WebSocketObserver(self.got.rec, upgrade)
        self.device = FrameProtocol(client=True, extensions=[])
        self.server = FrameProtocol(client=False, extensions=[])

    def up(self, message: dict[str, object]) -> None:
        self.ws.feed(UP, bytes(self.device.send_data(json.dumps(message), fin=True)))

    def down(self, message: dict[str, object]) -> None:
        self.ws.feed(DOWN, bytes(self.server.send_data(json.dumps(message), fin=True)))


def chunk(pcm: bytes | str, sid: str | None, n: int, *, final: bool = False) -> dict[str, object]:
    data = pcm if isinstance(pcm, str) else base64.b64encode(pcm).decode()
    message: dict[str, object] = {"type": "audio_chunk", "chunk_id": n, "audio_data": data}
    if sid is not None:
        message["audio_session_id"] = sid
    return {**message, "is_final": final}


def frame(pcm: bytes, sid: str, seq: int, *, final: bool) -> dict[str, object]:
    return {
        "type": "audio_response",
        "audio_session_id": sid,
        "seq": seq,
        "audio_data": base64.b64encode(pcm).decode(),
        "is_final": final,
        "format": "pcm_s16le",
        "sample_rate": 16000,
        "channels": 1,
        "timestamp": TS,
    }


PARTS = [bytes([n, 1]) * 2048 for n in range(3)]


@pytest.mark.unit
def test_both_directions_become_wavs_with_their_sidecars(tmp_path: Path) -> None:
    wire = Wire(tmp_path)
    wire.up({"type": "audio_start", "audio_session_id": "u-1"})
    wire.up(chunk(PARTS[0], None, 0))  # no id: joins the utterance audio_start opened
    wire.up(chunk(PARTS[1], "u-1", 1))
    wire.up(chunk(PARTS[2][:100], "u-1", 2, final=True))
    wire.up({"type": "audio_end", "audio_session_id": "u-1"})
    for seq, pcm in enumerate(PARTS):
        wire.down(frame(pcm, "u-1", seq, final=seq == 2))
    up, rate = pcm_of(tmp_path / "up-u-1.wav")
    assert (up, rate) == (PARTS[0] + PARTS[1] + PARTS[2][:100], 16000)
    assert pcm_of(tmp_path / "down-u-1.wav") == (b"".join(PARTS), 16000)
    meta = sidecar(tmp_path / "up-u-1.wav")
    assert meta == {
        "conn": 1,
        "audio_session_id": "u-1",
        "dir": "up",
        "frames": 3,
        "bytes": len(up),
        "first_t": 1.0,
        "last_t": 1.0,
        "sample_rate": 16000,
        "bad_audio": 0,
        "cut_bytes": 0,
    }
    assert sidecar(tmp_path / "down-u-1.wav")["frames"] == 3
    assert wire.got.problems == []
    # The records are as without wire audio: audio members summarised, not kept.
    fields = wire.got.of("ws")[1]["fields"]
    assert isinstance(fields, dict) and set(fields["audio_data"]) == {
        "base64_chars",
        "size",
        "sha256",
    }


@pytest.mark.unit
def test_a_broken_base64_member_is_counted_not_fatal(tmp_path: Path) -> None:
    wire = Wire(tmp_path)
    wire.up({"type": "audio_start", "audio_session_id": "u-2"})
    wire.up(chunk("not base64!", "u-2", 0))
    wire.up(chunk(base64.b64encode(b"\x01\x02\x03").decode(), "u-2", 1))  # odd: no samples
    wire.up(chunk(PARTS[1], "u-2", 2, final=True))
    assert pcm_of(tmp_path / "up-u-2.wav")[0] == PARTS[1]
    meta = sidecar(tmp_path / "up-u-2.wav")
    assert (meta["frames"], meta["bad_audio"], meta["bytes"]) == (3, 2, len(PARTS[1]))
    assert len(wire.got.of("ws")) == 4 and wire.got.problems == []


@pytest.mark.unit
def test_a_folder_that_cannot_be_written_stops_only_the_audio(tmp_path: Path) -> None:
    blocked = tmp_path / "wire-audio"
    blocked.write_text("a file where the folder should be")
    wire = Wire(blocked)
    wire.up({"type": "audio_start", "audio_session_id": "u-3"})
    wire.up(chunk(PARTS[0], "u-3", 0))
    wire.up(chunk(PARTS[1], "u-3", 1, final=True))
    assert len(wire.got.of("ws")) == 3  # every message still recorded
    assert len(wire.got.problems) == 1 and "wire audio stopped" in wire.got.problems[0]


@pytest.mark.unit
def test_an_unnamed_utterance_takes_the_id_of_its_ack(tmp_path: Path) -> None:
    wire = Wire(tmp_path)
    wire.up({"type": "audio_start"})
    wire.up(chunk(PARTS[0], None, 0))  # before the ack
    ack = {"type": "audio_start_ack", "audio_session_id": "srv-7", "status": "ready"}
    wire.down({"type": "system", "data": ack, "timestamp": TS})
    wire.up(chunk(PARTS[1], None, 1, final=True))
    assert [p.name for p in tmp_path.glob("*.wav")] == ["up-srv-7.wav"]
    assert pcm_of(tmp_path / "up-srv-7.wav")[0] == PARTS[0] + PARTS[1]
    assert sidecar(tmp_path / "up-srv-7.wav")["audio_session_id"] == "srv-7"


@pytest.mark.unit
def test_a_file_is_bounded_and_the_rest_counted(tmp_path: Path) -> None:
    wire = Wire(tmp_path)
    wire.up({"type": "audio_start", "audio_session_id": "long"})
    full = bytes(4096)
    count = MAX_FILE_BYTES // len(full) + 2
    for n in range(count):
        wire.up(chunk(full, "long", n))
    wire.audio.close()  # the tap stops with the utterance open: its sidecar is written
    meta = sidecar(tmp_path / "up-long.wav")
    assert meta["bytes"] == MAX_FILE_BYTES == len(pcm_of(tmp_path / "up-long.wav")[0])
    assert meta["cut_bytes"] == count * len(full) - MAX_FILE_BYTES and meta["frames"] == count


@pytest.mark.unit
def test_a_second_connection_with_the_same_id_gets_its_own_file(tmp_path: Path) -> None:
    audio = WireAudio(tmp_path, problems=lambda text: None)
    for conn in (1, 2):
        audio.connection(conn).message(DOWN, frame(PARTS[conn], "u-9", 0, final=True), 2.0)
    assert pcm_of(tmp_path / "down-u-9.wav")[0] == PARTS[1]
    assert pcm_of(tmp_path / "down-u-9-c2.wav")[0] == PARTS[2]
    assert sidecar(tmp_path / "down-u-9-c2.wav")["conn"] == 2


@pytest.mark.emu
async def test_an_emulator_run_keeps_what_the_device_sent_and_played(tmp_path: Path) -> None:
    result = await run_on_emulator("streaming/one_turn.yaml", tmp_path)
    assert result.status is Status.PASSED, result.failure_text()
    sent = sorted((tmp_path / "audio").glob("tx-*.wav"))
    heard = sorted((tmp_path / "audio").glob("rx-*.wav"))
    assert len(sent) == 1 and len(heard) == 1
    sid = sent[0].stem.removeprefix("tx-")
    wire = tmp_path / WIRE_AUDIO_DIR
    up, down = wire / f"up-{sid}.wav", wire / f"down-{heard[0].stem.removeprefix('rx-')}.wav"
    assert pcm_of(up) == pcm_of(sent[0]) and len(pcm_of(up)[0]) > 16000
    assert pcm_of(down) == pcm_of(heard[0]) and len(pcm_of(down)[0]) > 16000
    assert sidecar(up)["dir"] == "up" and sidecar(down)["dir"] == "down"
    first, last = sidecar(up)["first_t"], sidecar(up)["last_t"]
    assert isinstance(first, float) and isinstance(last, float) and 0 < first < last
    # The embedded server's recogniser received the same bytes (capability server_audio).
    received = list((tmp_path / SERVER_AUDIO_DIR).glob(f"*/*-{sid}.wav"))
    assert len(received) == 1 and pcm_of(received[0]) == pcm_of(sent[0])
    assert sidecar_outcome(received[0]) == "answered"


def sidecar_outcome(path: Path) -> object:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["outcome"]


@pytest.mark.emu
async def test_through_the_tap_a_broken_member_reaches_the_server_unchanged(
    tmp_path: Path,
) -> None:
    settings = ServerSettings(data_dir=tmp_path / "data")
    wire = WireLog(label="wire", log_path=tmp_path / "wire.jsonl", clock=ScenarioClock())
    folder = tmp_path / WIRE_AUDIO_DIR
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        tap = WireTap(s.base_url, sink=wire.add_record, clock=wire.now, audio_dir=folder)
        await tap.start()
        try:
            who = await asyncio.to_thread(claim, tap.url)  # the tap runs on this loop
            ws = await connect(chat_url(tap.ws_url, who), who.access_token)
            await send_json(ws, {"type": "audio_start", "audio_session_id": "u-b"})
            await recv_json(ws)  # ack
            await send_json(ws, chunk("AAB=", "u-b", 0))  # not canonical: the server refuses it
            refused = await recv_json(ws)
            await send_json(ws, chunk(PARTS[0], "u-b", 1, final=True))
            while (answer := await recv_json(ws))["type"] != "text_response":
                pass
            while not (await recv_json(ws))["is_final"]:  # the reply's audio, to its end
                pass
            await ws.close()
        finally:
            await tap.stop()
            wire.close()
    assert refused["error_code"] == "invalid_audio_data"  # the bad member crossed unchanged
    assert answer["audio_session_id"] == "u-b" and tap.problems == []
    meta = sidecar(folder / "up-u-b.wav")
    assert (meta["frames"], meta["bad_audio"], meta["bytes"]) == (2, 1, len(PARTS[0]))
    assert pcm_of(folder / "up-u-b.wav")[0] == PARTS[0]
    assert sidecar(folder / "down-u-b.wav")["bytes"] == len(pcm_of(folder / "down-u-b.wav")[0]) > 0
