"""The server's view against the device's account: lost audio and a compiled-in path show.

streaming/one_turn compares the bytes the server's speech-to-text was fed (chat.utterance)
with the bytes the device says it sent (audio.tx.end). A server that drops the chunks that
arrive before an utterance's stream is open (the original's defect 12) still answers, from
the rest of the audio, but fails the scenario. claim/websocket_url_followed serves the chat
at another path than the default, so a device that dials a compiled-in path (defect 18) is
refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.core.claim import Auth
from hil.result import Status
from protocol.constants import CHAT_PATH
from server.chat_session import Action, UtteranceAudio
from server.routes import chat_worker
from tests.hil.conftest import run_on_emulator

pytestmark = pytest.mark.emu


async def test_audio_dropped_before_the_recogniser_fails_one_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = chat_worker.SpeechWorker._handle
    seen: set[str] = set()

    async def drop_first_chunk(self: chat_worker.SpeechWorker, action: Action) -> None:
        if isinstance(action, UtteranceAudio) and action.audio_session_id not in seen:
            seen.add(action.audio_session_id)  # the chunk that raced the stream's opening
            return
        await handle(self, action)

    monkeypatch.setattr(chat_worker.SpeechWorker, "_handle", drop_first_chunk)
    result = await run_on_emulator("streaming/one_turn.yaml", tmp_path)
    assert result.status is Status.FAILED, result.detail
    assert "chat.utterance" in result.reason
    assert "bytes: '" in result.detail and "does not match" in result.detail  # 4096 fewer


async def test_a_device_that_dials_a_compiled_in_path_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The original firmware's defect 18: the claim's websocket_url is ignored.
    def compiled_in(auth: Auth) -> str | None:
        return None if auth.access_token is None else f"ws://127.0.0.1{CHAT_PATH}"

    monkeypatch.setattr(Auth, "websocket_url", property(compiled_in))
    result = await run_on_emulator("claim/websocket_url_followed.yaml", tmp_path)
    assert result.status is Status.FAILED, result.detail
    assert "ws.open" in result.reason or "config_mismatch" in result.reason, result.reason
