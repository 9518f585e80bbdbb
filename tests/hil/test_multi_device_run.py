"""Running scenarios with several devices: one target each, their files, watches and skips.

The scenarios of `scenarios/multi/` run on two emulated devices against one real server
and tap; a crash on the second device fails the scenario naming it; a target without
`multi_device` skips such a scenario; and with the server's token_mismatch check removed
(SPEC §6.1 rule 7), the token-of-another-toy scenario fails at its probe.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import WebSocket

from emulator.core.chat import Chat
from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario
from hil.scenario.loader import load_scenario
from hil.targets.base import MULTI_DEVICE
from hil.targets.registry import choose
from protocol.messages import ServerMessage, TextResponse
from server.routes import chat, chat_connection
from server.speech.interfaces import ChildContext
from server.speech.pipeline import SpeechPipeline
from tests.hil.conftest import WriteFile, run_on_emulator
from tests.hil.scripted_target import Calls

pytestmark = pytest.mark.emu

HEAD = "version: 1\nname: t\ndescription: d\n"
TWO = "devices:\n  a: {device_id: Teddy-ESP32-00A1}\n  b: {device_id: Teddy-ESP32-00B2}\n"


async def run(path: Path, pipeline: SpeechPipeline, target: str = "emulator") -> ScenarioResult:
    return await run_scenario(
        load_scenario(path),
        target=choose(target),
        artifact_dir=path.parent / "artifacts" / path.stem,
        pipeline=pipeline,
    )


async def test_two_emulated_devices_each_have_their_files_and_connections(
    tmp_path: Path,
) -> None:
    result = await run_on_emulator("multi/token_of_another_toy.yaml", tmp_path)
    assert result.status is Status.PASSED, result.detail
    for name, device_id in (("a", "Teddy-ESP32-00A1"), ("b", "Teddy-ESP32-00B2")):
        boot = (tmp_path / f"console-{name}.log").read_text().splitlines()[0]
        assert f'"device_id":"{device_id}"' in boot  # each console is its own device's
        assert (tmp_path / f"device-{name}" / "flash").is_dir()
        assert (tmp_path / f"events-{name}.jsonl").is_file()
    assert not (tmp_path / "console.log").exists()  # the one-device layout is not mixed in
    saved = json.loads((tmp_path / "result.json").read_text())
    devices = saved["devices"]
    assert devices["a"]["console"] == "console-a.log"
    assert devices["a"]["connections"] and devices["b"]["connections"]
    assert not set(devices["a"]["connections"]) & set(devices["b"]["connections"])
    assert [s["on"] for s in saved["steps"]][-2:] == ["b", "b"]
    assert saved["variables"]["devices.b.device_id"] == "Teddy-ESP32-00B2"


async def test_a_crash_on_the_second_device_fails_the_scenario_naming_it(
    write: WriteFile, pipeline: SpeechPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_on_message = Chat.on_message

    def on_message(self: Chat, message: ServerMessage) -> None:
        if isinstance(message, TextResponse) and self.ctx.device_id == "Teddy-ESP32-00B2":
            raise RuntimeError("deliberate fault in device b's core")
        real_on_message(self, message)

    monkeypatch.setattr(Chat, "on_message", on_message)
    path = write(
        "crash.yaml",
        HEAD
        + TWO
        + "steps:\n  - expect: ws.open\n  - expect: ws.open\n    on: b\n"
        + "  - console: 'text \"hello teddy\"'\n  - expect: text.rx\n"  # a is fine
        + "  - console: 'text \"hello teddy\"'\n    on: b\n"
        + "  - expect: {event: ws.open, timeout: 20s}\n    on: b\n",
    )
    result = await run(path, pipeline)
    assert result.status is Status.FAILED
    assert [s.status for s in result.steps][:4] == ["passed"] * 4, result.detail
    assert result.reason.startswith("device b: the emulated device core raised RuntimeError")
    assert "on b at" in result.reason  # the step's label names the device too
    assert "deliberate fault in device b's core" in result.detail


async def test_a_failed_step_on_the_second_device_names_it(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    path = write(
        "miss.yaml",
        HEAD
        + TWO
        + "steps:\n  - expect: ws.open\n  - console: status\n    on: b\n"
        + "  - expect: {event: cmd.ok, match: {device_id: Teddy-ESP32-00A1}, timeout: 1s}\n"
        + "    on: b\n",
    )
    result = await run(path, pipeline)
    assert result.status is Status.FAILED
    assert "step 3 `expect` on b at" in result.reason, result.reason
    assert "console-b.log" in result.detail  # the report shows device b's console


async def test_a_target_without_multi_device_skips_with_the_reason(
    write: WriteFile, scripted: Calls, pipeline: SpeechPipeline
) -> None:
    path = write("two.yaml", HEAD + TWO + "steps:\n  - expect: boot\n  - expect: boot\n    on: b\n")
    result = await run(path, pipeline, "scripted")
    assert result.status is Status.SKIPPED
    assert f"needs capability {MULTI_DEVICE!r} (the scenario's `devices:` (2))" in result.reason
    assert scripted.started == 0  # skipped before anything started


async def test_without_the_token_mismatch_check_a_toy_takes_anothers_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "multi/token_of_another_toy.yaml"
    held = await run_on_emulator(name, tmp_path / "ok")
    assert held.status is Status.PASSED, held.detail
    checked = chat.check_handshake

    def no_mismatch_check(state: object, websocket: WebSocket) -> chat_connection.Peer:
        try:
            return checked(state, websocket)  # type: ignore[arg-type]
        except chat.HandshakeRefused as refusal:
            if refusal.reason != "token_mismatch":
                raise
            query = websocket.query_params  # the query's device wins over the token's
            child = ChildContext(name="Friend", age=int(query["child_age"]))
            return chat_connection.Peer(query["device_id"].lower(), child, "mismatched")

    monkeypatch.setattr(chat, "check_handshake", no_mismatch_check)
    result = await run_on_emulator(name, tmp_path / "bad")
    assert result.status is Status.FAILED
    assert "`http`" in result.reason and "token_of_another_toy.yaml:28" in result.reason
    assert "status: 101 is not 403" in result.detail, result.detail
