"""Evidence on disk on real runs: each `expect_files` scenario passes, and fails on a broken system.

The scenarios run on the emulator against the embedded server. The broken systems are
test-only patches: a server that keeps every utterance (the original's defect 24), one that
ignores `keep_utterance_audio`, a device that writes its refresh token under another NVS key
than it reads (defect 21's kind) and one that never persists a rotated token.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from emulator.core.context import Ctx
from hil.result import ScenarioResult, Status
from protocol import device_model as dm
from server import state as state_module
from server.settings import ServerSettings
from server.utterance_audio import UtteranceAudioKeeper
from tests.hil.conftest import run_on_emulator

pytestmark = pytest.mark.emu


def _failed_at_files(result: ScenarioResult, glob: str) -> None:
    assert result.status is Status.FAILED, result.detail
    assert "`expect_files`" in result.reason and glob in result.reason, result.reason


async def test_no_audio_at_rest_holds(tmp_path: Path) -> None:
    result = await run_on_emulator("privacy/no_audio_at_rest.yaml", tmp_path)
    assert result.status is Status.PASSED, result.detail
    assert (tmp_path / "server-data" / "teddy.sqlite3").is_file()  # the folder it judged


async def test_a_server_that_keeps_every_utterance_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always(settings: ServerSettings) -> UtteranceAudioKeeper:  # defect 24
        return UtteranceAudioKeeper(settings.data_dir)

    monkeypatch.setattr(state_module, "keeper_for", always)
    result = await run_on_emulator("privacy/no_audio_at_rest.yaml", tmp_path)
    _failed_at_files(result, "'**/*.wav'")
    assert "utterances/teddy-esp32-0001/00001-u-1-0001.wav (6" in result.detail


async def test_kept_audio_is_one_wav_per_utterance(tmp_path: Path) -> None:
    result = await run_on_emulator("privacy/keep_audio_for_debugging.yaml", tmp_path)
    assert result.status is Status.PASSED, result.detail
    kept = sorted((tmp_path / "server-data" / "utterances").glob("*/*.wav"))
    assert [p.name for p in kept] == ["00001-u-1-0001.wav", "00002-u-1-0002.wav"]


async def test_a_server_that_ignores_keep_utterance_audio_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(UtteranceAudioKeeper, "keep", lambda *args: None)
    _failed_at_files(
        await run_on_emulator("privacy/keep_audio_for_debugging.yaml", tmp_path), "utterances"
    )


async def test_tokens_in_flash_hold(tmp_path: Path) -> None:
    result = await run_on_emulator("token/tokens_in_flash.yaml", tmp_path)
    assert result.status is Status.PASSED, result.detail


def _patch_nvs_set(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    original = Ctx.nvs_set

    def nvs_set(self: Ctx, key: Any, value: Any) -> None:
        key = change(key) if key == dm.NVS_AUTH_REFRESH_TOKEN else key
        if key is not None:
            original(self, key, value)

    monkeypatch.setattr(Ctx, "nvs_set", nvs_set)


async def test_a_token_written_under_another_key_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patch_nvs_set(monkeypatch, lambda key: dataclasses.replace(key, key="pair_refresh"))
    result = await run_on_emulator("token/tokens_in_flash.yaml", tmp_path)
    _failed_at_files(result, "'nvs.json'")
    assert 'no match for /"refresh_token"' in result.detail


async def test_a_rotated_token_never_persisted_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[object] = []

    def first_only(key: Any) -> Any:
        writes.append(key)
        return key if len(writes) == 1 else None

    _patch_nvs_set(monkeypatch, first_only)
    result = await run_on_emulator("token/tokens_in_flash.yaml", tmp_path)
    _failed_at_files(result, "'nvs.json'")
    assert 'no match for /"refresh_token"' in result.detail
