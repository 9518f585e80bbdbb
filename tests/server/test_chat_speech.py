"""The default speech engines end to end over a real socket (SPEC §6.5, §7.3).

pocketsphinx hears an espeak-ng "hello teddy" streamed in 4096-byte chunks, the
responder answers, espeak-ng speaks, and the reply arrives as frames under 8 KiB whose
PCM is 16 kHz speech: pocketsphinx recognises words in it again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from server.embedded import EmbeddedServer
from server.engines import default_pipeline
from server.settings import ServerSettings
from server.speech.espeak_tts import EspeakTextToSpeech
from server.state import build_state
from tests.server.ws_client import chat_url, claim, connect, recv_json, send_json

pytestmark = [pytest.mark.emu, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path_factory.mktemp("speech") / "data")
    state = build_state(settings, pipeline=default_pipeline(env={}))
    with EmbeddedServer(settings, state=state) as running:
        yield running


async def test_hello_teddy_gets_a_spoken_reply(server: EmbeddedServer) -> None:
    clip = EspeakTextToSpeech().synthesize("hello teddy")
    who = claim(server.base_url)
    ws = await connect(chat_url(server.ws_url, who), who.access_token)
    await send_json(ws, {"type": "audio_start", "audio_session_id": "hello-1"})
    assert (await recv_json(ws))["data"]["type"] == "audio_start_ack"
    for i in range(0, len(clip), 4096):
        chunk = base64.b64encode(clip[i : i + 4096]).decode()
        await send_json(
            ws,
            {
                "type": "audio_chunk",
                "audio_data": chunk,
                "chunk_id": i // 4096,
                "audio_session_id": "hello-1",
            },
        )
    await send_json(ws, {"type": "audio_end", "audio_session_id": "hello-1"})
    text = await recv_json(ws)
    assert text["type"] == "text_response"
    assert text["transcript"] == "hello teddy"
    assert "Mia" in text["text"]
    frames: list[dict[str, Any]] = []
    while not frames or not frames[-1]["is_final"]:
        raw = await ws.recv()
        assert isinstance(raw, str)
        assert len(raw.encode()) < 8192
        frames.append(json.loads(raw))
    await ws.close()
    pcm = b"".join(base64.b64decode(f["audio_data"]) for f in frames)
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    assert frames[0]["sample_rate"] == 16000 and frames[0]["format"] == "pcm_s16le"
    assert 1.0 < len(samples) / 16000 < 15.0
    assert np.sqrt(np.mean(samples**2)) > 300
    heard = server.state.pipeline.stt.open_stream() if server.state else None
    assert heard is not None
    heard.feed(pcm)
    assert heard.finish().text.strip(), "the reply should be recognisable speech"
