"""What each utterance's recogniser received, kept for a test run (server.received_audio).

The setting is refused where SPEC §6.5 rule 10 forbids it; over a real chat every utterance,
answered or refused, becomes a WAV with the bytes the recogniser got (after the chat faults)
and a sidecar naming its outcome.
"""

from __future__ import annotations

import base64
import json
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.legacy.client import WebSocketClientProtocol

from server.cli import main
from server.embedded import EmbeddedServer
from server.errors import ConfigurationError
from server.received_audio import OUTCOMES, SIDECAR_KEYS, check_received_audio
from server.settings import Profile, ServerSettings
from server.state import build_state
from tests.server.helpers import scripted_pipeline
from tests.server.ws_client import chat_url, claim, connect, recv_json, send_json

CHUNKS = [bytes([n, 0]) * 2048 for n in (1, 2, 3)]  # distinct audio per chunk


def _chunk(sid: str, n: int, pcm: bytes, *, final: bool) -> dict[str, object]:
    return {
        "type": "audio_chunk",
        "audio_session_id": sid,
        "chunk_id": n,
        "audio_data": base64.b64encode(pcm).decode(),
        "is_final": final,
    }


def _read(wav_path: Path) -> tuple[bytes, dict[str, object]]:
    with wave.open(str(wav_path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        pcm = wav.readframes(wav.getnframes())
    sidecar = json.loads(wav_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert tuple(sidecar) == SIDECAR_KEYS and sidecar["outcome"] in OUTCOMES
    return pcm, sidecar


@pytest.mark.unit
def test_production_and_the_data_folder_refuse_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    check_received_audio(ServerSettings(data_dir=data))  # off: nothing to refuse
    prod = ServerSettings(
        data_dir=data, profile=Profile.PRODUCTION, received_audio_dir=tmp_path / "heard"
    )
    with pytest.raises(ConfigurationError, match="development profile only"):
        check_received_audio(prod)
    inside = ServerSettings(data_dir=data, received_audio_dir=data / "heard")
    with pytest.raises(ConfigurationError, match="inside the data folder"):
        check_received_audio(inside)
    check_received_audio(ServerSettings(data_dir=data, received_audio_dir=tmp_path / "heard"))


@pytest.mark.unit
def test_serve_flag_is_documented_and_refused_in_production(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--received-audio-dir DIR" in " ".join(capsys.readouterr().out.split())
    data = tmp_path / "data"
    argv = ["serve", "--data", str(data), "--profile", "production"]
    assert main([*argv, "--received-audio-dir", str(tmp_path / "heard")]) == 2
    err = capsys.readouterr().err
    assert "received_audio_dir" in err and "development profile only" in err
    assert not data.exists() and not (tmp_path / "heard").exists()


@pytest.fixture
def heard(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, Path]]:
    folder = tmp_path / "heard"
    settings = ServerSettings(data_dir=tmp_path / "data", received_audio_dir=folder)
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s, folder


async def _until(ws: WebSocketClientProtocol, kind: str) -> dict[str, object]:
    while (message := await recv_json(ws))["type"] != kind:
        pass
    return message


@pytest.mark.emu
async def test_every_utterance_is_kept_with_its_outcome(
    heard: tuple[EmbeddedServer, Path],
) -> None:
    server, folder = heard
    assert server.state is not None
    events = server.state.events.subscribe()
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    # 1: answered, whole.
    await send_json(ws, {"type": "audio_start", "audio_session_id": "u-a"})
    for n, pcm in enumerate(CHUNKS):
        await send_json(ws, _chunk("u-a", n, pcm, final=n == 2))
    await _until(ws, "text_response")
    # 2: answered, its first chunk lost to the fault.
    server.state.faults.inject("drop_first_chunk")
    await send_json(ws, {"type": "audio_start", "audio_session_id": "u-b"})
    for n, pcm in enumerate(CHUNKS):
        await send_json(ws, _chunk("u-b", n, pcm, final=n == 2))
    await _until(ws, "text_response")
    # 3: refused, too short (SPEC §6.5 rule 4); 4: superseded by 5, which is empty.
    await send_json(ws, {"type": "audio_start", "audio_session_id": "u-c"})
    await send_json(ws, _chunk("u-c", 0, CHUNKS[0][:1000], final=True))
    assert (await _until(ws, "error"))["error_code"] == "audio_too_short"
    await send_json(ws, {"type": "audio_start", "audio_session_id": "u-d"})
    await send_json(ws, _chunk("u-d", 0, CHUNKS[1], final=False))
    await send_json(ws, {"type": "audio_start", "audio_session_id": "u-e"})
    await send_json(ws, {"type": "audio_end", "audio_session_id": "u-e"})
    assert (await _until(ws, "error"))["error_code"] == "no_audio_data"
    # 6: open when the connection ends.
    await send_json(ws, {"type": "audio_start", "audio_session_id": "u-f"})
    await send_json(ws, _chunk("u-f", 0, CHUNKS[2], final=False))
    await _until(ws, "system")  # its ack: the server has the utterance open
    await ws.close()
    while (event := events.get(timeout=10)) is not None and event.name != "ws.close":
        pass  # every file is written before the server's ws.close (chat_worker)
    assert event is not None, "no ws.close within 10 s"

    device = folder / "teddy-esp32-001"
    names = sorted(p.name for p in device.glob("*.wav"))
    assert names == [f"0000{n}-u-{x}.wav" for n, x in enumerate("abcdef", start=1)]
    wanted = [
        (b"".join(CHUNKS), "answered"),
        (b"".join(CHUNKS[1:]), "answered"),
        (CHUNKS[0][:1000], "audio_too_short"),
        (CHUNKS[1], "superseded"),
        (b"", "no_audio_data"),
        (CHUNKS[2], "closed"),
    ]
    for name, (pcm, outcome) in zip(names, wanted, strict=True):
        got, sidecar = _read(device / name)
        assert (got, sidecar["outcome"], sidecar["bytes"]) == (pcm, outcome, len(pcm)), name
        assert sidecar["device_id"] == "teddy-esp32-001"
        assert sidecar["audio_session_id"] == name.split("-", 1)[1].removesuffix(".wav")
        first, end = sidecar["first_chunk_wall_s"], sidecar["end_wall_s"]
        assert isinstance(end, float)
        assert first is None if not pcm else isinstance(first, float) and first <= end
    data = server.state.settings.data_dir
    assert not list(data.rglob("*.wav")), "the data folder stays free of audio"
