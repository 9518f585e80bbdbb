"""The server keeps no child audio unless told to (SPEC §6.5 rule 10); the scenarios
`privacy/*` check the same over a real chat (tests/hil/test_files_on_a_run.py)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from server.errors import ConfigurationError
from server.settings import Profile, ServerSettings
from server.utterance_audio import UTTERANCE_DIR, UtteranceAudioKeeper, check_retention, keeper_for

pytestmark = pytest.mark.unit


def test_production_refuses_keep_utterance_audio(tmp_path: Path) -> None:
    settings = ServerSettings(
        data_dir=tmp_path / "d", profile=Profile.PRODUCTION, keep_utterance_audio=True
    )
    with pytest.raises(ConfigurationError, match="development profile only"):
        check_retention(settings)


def test_only_keep_utterance_audio_gives_a_keeper(tmp_path: Path) -> None:
    assert keeper_for(ServerSettings(data_dir=tmp_path)) is None
    kept = keeper_for(ServerSettings(data_dir=tmp_path, keep_utterance_audio=True))
    assert kept is not None and kept.root == tmp_path / UTTERANCE_DIR


def test_keeper_writes_a_wav_with_safe_names(tmp_path: Path) -> None:
    keeper = UtteranceAudioKeeper(tmp_path)
    pcm = bytes(range(256)) * 25
    first = keeper.keep("teddy-esp32-0001", "../../etc/x", pcm)
    second = keeper.keep("teddy-esp32-0001", "../../etc/x", pcm)
    assert first.parent == tmp_path / UTTERANCE_DIR / "teddy-esp32-0001"
    assert [first.name, second.name] == ["00001-.._.._etc_x.wav", "00002-.._.._etc_x.wav"]
    with wave.open(str(first), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.readframes(10_000) == pcm
