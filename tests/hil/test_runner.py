"""The runner against a real embedded server and the ScriptedTarget stand-in device."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario
from hil.scenario.loader import load_scenario
from hil.targets.registry import choose
from server.speech.pipeline import SpeechPipeline
from server.store import Store
from tests.hil.conftest import WriteFile
from tests.hil.scripted_target import Calls, Script, ScriptedTarget, event

pytestmark = pytest.mark.emu

HEAD = "version: 1\nname: t\ndescription: d\n"


async def run(path: Path, pipeline: SpeechPipeline, *, target: str = "scripted") -> ScenarioResult:
    return await run_scenario(
        load_scenario(path),
        target=choose(target),
        artifact_dir=path.parent / "artifacts" / path.stem,
        pipeline=pipeline,
    )


def port_is_closed(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        return sock.connect_ex((parts.hostname or "", parts.port or 0)) != 0


async def test_a_passing_scenario_leaves_its_artifacts(
    write: WriteFile, scripted: Calls, pipeline: SpeechPipeline
) -> None:
    path = write(
        "claim/pass.yaml",
        """
        version: 1
        name: scripted-pass
        description: every server-side step once, against the stand-in device
        tags: [smoke]
        vars: {greeting: hi}
        given:
          releases:
            - {version: 1.0.0}
            - {version: 1.0.1, break: {truncate: 100, sha256_mismatch: true}}
        steps:
          - expect: {event: boot, capture: {fw: fw_version}}
          - expect: {event: claim.ok, capture: {session: device_session_id}}
          - expect_server: {event: claim.ok, match: {device_id: "(?i)${device.device_id}"}}
          - console: "set child_name ${greeting}-${fw}"
          - console: status
          - expect: {event: cmd.ok, match: {cmd: status, ws: true}}
          - expect_absent: {event: claim.fail, within: 100ms}
          - publish: {version: 1.1.0, behaviour: {selftest: fail}}
          - set_config: {heartbeat_interval: 5}
          - server_fault: {kind: http_status, path: /api/v1/pair/claim, status: 503}
          - wait: {seconds: 0.05}
          - console: {line: "button hold", reply: error}
        """,
    )
    result = await run(path, pipeline)
    assert result.status is Status.PASSED, result.detail
    assert scripted.lines == ["set child_name hi-1.0.0", "status", "button hold"]
    assert scripted.started == 1 and scripted.stopped == 1
    folder = path.parent / "artifacts" / "pass"
    assert {p.name for p in folder.iterdir()} >= {
        "console.log",
        "events.jsonl",
        "server-events.jsonl",
        "result.json",
        "server-data",
    }
    saved = json.loads((folder / "result.json").read_text())
    assert saved["status"] == "passed" and saved["variables"]["fw"] == "1.0.0"
    assert [s["status"] for s in saved["steps"]] == ["passed"] * 12
    events = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]
    assert events[0]["event"] == "boot" and events[0]["line"] == 2
    server_events = (folder / "server-events.jsonl").read_text()
    assert '"name": "claim.ok"' in server_events
    store = Store(folder / "server-data" / "teddy.sqlite3")
    try:
        notes = [(r.version, r.notes) for r in store.releases(chip="esp32")]
        assert store.config_overrides() == {"heartbeat_interval": 5}
    finally:
        store.close()
    assert [v for v, _ in notes] == ["1.0.0", "1.0.1", "1.1.0"]
    assert "deliberately broken" in notes[1][1]


async def test_a_failed_expect_reports_and_still_stops_everything(
    write: WriteFile, scripted: Calls, pipeline: SpeechPipeline
) -> None:
    path = write(
        "x.yaml",
        HEAD + "steps:\n  - expect: boot\n"
        "  - expect: {event: ota.applied, match: {version: 9.9.9}, timeout: 200ms}\n"
        "  - console: status\n",
    )
    result = await run(path, pipeline)
    assert result.status is Status.FAILED
    assert result.reason == (f"no ota.applied matching within 200ms (step 2 `expect` at {path}:6)")
    assert "expected: device event ota.applied with version =~ /9.9.9/" in result.detail
    assert "@teddy 1 wifi.up" in result.detail
    assert f"full log: {path.parent}/artifacts/x/console.log" in result.detail
    assert [s.status for s in result.steps] == ["passed", "failed", "not_run"]
    assert scripted.stopped == 1
    assert port_is_closed(str(result.variables["server.url"]))


async def test_missing_capability_skips_before_anything_starts(
    write: WriteFile, scripted: Calls, pipeline: SpeechPipeline
) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - expect: boot\n  - talk: hello teddy\n")
    result = await run(path, pipeline, target="scripted-mute")
    assert result.status is Status.SKIPPED
    assert result.reason.startswith(
        f"needs capability 'audio_in' (step 2 `talk` at {path}:6); available: audio_out, reset, "
        "server_audio, server_control, server_events, server_faults"
    )
    assert scripted.started == 0
    path = write("y.yaml", HEAD + "steps:\n  - power_cut: {}\n")
    assert (await run(path, pipeline)).status is Status.SKIPPED


async def test_garbage_from_the_device_fails_only_strict_scenarios(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    garbage = b"\xff\xfe\n@teddy 9 boot {oops}\n" + b"z" * 100_000 + b"\n"
    ScriptedTarget.configure(Script(raw_boot=garbage))
    path = write("x.yaml", HEAD + "steps:\n  - expect: ws.open\n")
    result = await run(path, pipeline)
    assert result.status is Status.FAILED
    assert result.reason.startswith("1 invalid event line(s), first: event boot: bad JSON")
    assert "console.log line 6" in result.detail
    lenient = write("y.yaml", HEAD + "strict_events: false\nsteps:\n  - expect: ws.open\n")
    ScriptedTarget.configure(Script(raw_boot=garbage))
    assert (await run(lenient, pipeline)).status is Status.PASSED


async def test_captures_substitution_reply_and_wait_for_the_next_event(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    reply = [
        event("text.rx", text="Dinosaurs are old!", transcript="tell me about dinosaurs"),
        event("audio.rx.end", audio_session_id="u-7", bytes=3200, frames=1, text="x"),
    ]
    calls = ScriptedTarget.configure(Script(claim_over_http=False, on_command={"talk": reply}))
    path = write(
        "x.yaml",
        HEAD
        + """steps:
  - expect: ws.open
  - talk: tell me about dinosaurs
  - expect_reply: {transcript: "(?i).*dinosaur.*", capture: {said: text, sid: audio_session_id}}
  - console: "set child_name '${said}'"
  - console: "get child_name"
  - wait: {event: cmd.ok, match: {cmd: get}, timeout: 1s}
""",
    )
    result = await run(path, pipeline)
    # `wait: {event}` waits for the *next* occurrence: the stand-in answered `get` at once,
    # before the wait began, so nothing new arrives and the step fails.
    assert result.status is Status.FAILED
    assert "step 6 `wait`" in result.reason
    assert calls.lines[:2] == [
        'talk "tell me about dinosaurs"',
        "set child_name 'Dinosaurs are old!'",
    ]
    assert result.variables["said"] == "Dinosaurs are old!" and result.variables["sid"] == "u-7"


async def test_target_errors_and_refused_commands_fail_the_step(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    calls = ScriptedTarget.configure(Script(explode_on="claim"))
    path = write("x.yaml", HEAD + "steps:\n  - console: status\n  - console: claim\n")
    result = await run(path, pipeline)
    assert result.status is Status.FAILED
    assert result.reason == (
        f"RuntimeError: scripted explosion on 'claim' (step 2 `console` at {path}:6)"
    )
    assert "Traceback" in result.detail and calls.stopped == 1
    ScriptedTarget.configure(Script(silent=True))
    path = write("y.yaml", HEAD + "steps:\n  - console: {line: status, timeout: 100ms}\n")
    result = await run(path, pipeline)
    assert result.reason == "'status': expected cmd.ok, no reply"
    assert "the device printed nothing" in result.detail
