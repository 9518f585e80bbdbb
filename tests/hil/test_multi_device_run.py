"""Running scenarios with several devices: one target each, their files, watches and skips.

The scenarios of `scenarios/multi/` run on two emulated devices against one real server
and tap; a crash on the second device fails the scenario naming it; a target without
`multi_device` skips such a scenario; and with the server's token_mismatch check removed
(SPEC §6.1 rule 7), the token-of-another-toy scenario fails at its probe; a server
that never replaces a device's older chat (no 4001, SPEC §6.2) fails the replacement
scenario, and one that keeps one chat per child fails the same-child scenario.
"""

from __future__ import annotations

import asyncio
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
from server.state import ConnectionRegistry
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


async def test_a_forbidden_event_on_the_second_device_fails_naming_it(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    path = write(
        "forbid.yaml",
        HEAD
        + "forbid:\n  - {event: wifi.down, because: no toy leaves the Wi-Fi}\n"
        + TWO
        + "steps:\n  - expect: ws.open\n    on: b\n  - console: wifi down\n    on: b\n"
        + "  - expect: {event: state, match: {to: offline}, timeout: 5s}\n",  # on a: never
    )
    result = await run(path, pipeline)
    assert result.status is Status.FAILED
    assert result.reason.startswith("device b: forbidden device event wifi.down happened"), (
        result.reason
    )


async def test_a_server_that_keeps_both_connections_of_one_device_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never_replace(self: ConnectionRegistry, device_key: str) -> asyncio.Event:
        del self, device_key
        return asyncio.Event()  # no older connection is ever told (no 4001)

    monkeypatch.setattr(ConnectionRegistry, "register", never_replace)
    result = await run_on_emulator("multi/second_connection_replaces_first.yaml", tmp_path)
    assert result.status is Status.FAILED
    assert "second_connection_replaces_first.yaml:30" in result.reason, result.reason
    assert "ws.close" in result.detail


async def test_a_server_with_one_chat_for_everyone_fails_the_same_child_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = ConnectionRegistry.register

    def one_chat(self: ConnectionRegistry, device_key: str) -> asyncio.Event:
        del device_key
        return register(self, "child-001")  # keyed by the child: another toy replaces it

    monkeypatch.setattr(ConnectionRegistry, "register", one_chat)
    result = await run_on_emulator("multi/same_child_two_toys.yaml", tmp_path)
    assert result.status is Status.FAILED
    assert "forbidden" in result.reason and "4001" in result.reason, result.reason


async def test_power_and_flash_steps_act_on_the_device_named(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    path = write(
        "power.yaml",
        HEAD
        + TWO
        + "steps:\n  - expect: ws.open\n  - expect: ws.open\n    on: b\n"
        + "  - power_cut: {}\n    on: b\n  - reboot: {}\n    on: b\n"
        + "  - expect: {event: boot, match: {reset_reason: poweron}}\n    on: b\n"
        + "  - expect: {event: ws.open, timeout: 20s}\n    on: b\n"
        + "  - expect_absent: {event: boot, within: 0s}\n"  # a never lost power
        + "  - expect_files: {in: device, glob: nvs.json, count: 1}\n    on: b\n",
    )
    result = await run(path, pipeline)
    assert result.status is Status.PASSED, result.detail
    a_log = (path.parent / "artifacts" / "power" / "console-a.log").read_text()
    b_log = (path.parent / "artifacts" / "power" / "console-b.log").read_text()
    assert a_log.count(" boot ") == 1 and b_log.count(" boot ") == 2
