"""Failures no step asked for: a crash inside the emulated core, a panic on the console.

Both fail the step in progress at once and put the whole report (the traceback, the panic
and its backtrace) in the result; a scenario that provokes a panic on purpose says
`panic: expected`. The emulator case raises inside the real device core on a real
embedded server: before the watch existed, the board's simulated panic and reset let the
later steps pass.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from emulator.core.chat import Chat
from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario
from hil.scenario.loader import load_scenario
from hil.targets.registry import choose
from protocol.messages import ServerMessage, TextResponse
from server.speech.pipeline import SpeechPipeline
from tests.hil.conftest import WriteFile
from tests.hil.scripted_target import Calls, Script, ScriptedTarget

pytestmark = pytest.mark.emu

HEAD = "version: 1\nname: t\ndescription: d\n"
PANIC = (
    "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.",
    "Backtrace: 0x400d1a2b:0x3ffb1f40 0x400d2c3d:0x3ffb1f60",
    "ELF file SHA256: 0123456789abcdef",
)


async def run(path: Path, pipeline: SpeechPipeline, target: str) -> ScenarioResult:
    return await run_scenario(
        load_scenario(path),
        target=choose(target),
        artifact_dir=path.parent / "artifacts" / path.stem,
        pipeline=pipeline,
    )


async def test_an_exception_in_the_emulated_core_fails_with_its_traceback(
    write: WriteFile, pipeline: SpeechPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_on_message = Chat.on_message

    def on_message(self: Chat, message: ServerMessage) -> None:
        if isinstance(message, TextResponse):
            raise RuntimeError("deliberate fault in the device core")
        real_on_message(self, message)

    monkeypatch.setattr(Chat, "on_message", on_message)
    # The core crashes on the server's reply to `text`: the board panics, resets and
    # reconnects, so without the watch the second ws.open passes and so does the scenario.
    path = write(
        "crash.yaml",
        HEAD + "steps:\n  - expect: ws.open\n  - console: 'text \"hello teddy\"'\n"
        "  - expect: {event: ws.open, timeout: 20s}\n  - console: status\n",
    )
    result = await run(path, pipeline, "emulator")
    assert result.status is Status.FAILED
    assert [s.status for s in result.steps][1:] in (
        ["failed", "not_run", "not_run"],  # the reply came while `text` waited for cmd.ok
        ["passed", "failed", "not_run"],
    ), result.detail
    assert "emulated device core raised RuntimeError: deliberate fault" in result.reason
    text = result.failure_text()
    assert "Traceback (most recent call last)" in text
    assert "test_device_watch.py" in text and "in on_message" in text
    assert "WsText(" in text  # the input that crashed it


async def test_a_panic_on_the_console_fails_the_step_at_once(
    write: WriteFile, scripted: Calls, pipeline: SpeechPipeline
) -> None:
    ScriptedTarget.configure(Script(on_command={"status": PANIC}))
    path = write(
        "panic.yaml",
        HEAD + "steps:\n  - expect: ws.open\n  - console: status\n"
        "  - expect: {event: boot, timeout: 30s}\n",
    )
    began = time.monotonic()
    result = await run(path, pipeline, "scripted")
    assert time.monotonic() - began < 20  # not the 30 s timeout of the step after it
    assert result.status is Status.FAILED
    failed = [s.index for s in result.steps if s.status == "failed"]
    assert failed == [2], result.detail
    assert result.reason.startswith("device panic: Guru Meditation Error")
    for line in PANIC:  # the backtrace after the panic line is in the report
        assert line in result.detail
    assert "panic: expected" in result.detail


async def test_a_scenario_that_provokes_a_panic_says_so(
    write: WriteFile, scripted: Calls, pipeline: SpeechPipeline
) -> None:
    ScriptedTarget.configure(Script(on_command={"status": PANIC}))
    path = write(
        "expected.yaml",
        HEAD + "panic: expected\nsteps:\n  - expect: ws.open\n  - console: status\n"
        '  - expect_line: "Backtrace: (?P<pc>0x[0-9a-f]+)"\n',
    )
    result = await run(path, pipeline, "scripted")
    assert result.status is Status.PASSED, result.detail
    assert result.variables["pc"] == "0x400d1a2b"


async def test_a_panic_after_the_last_step_still_fails(
    write: WriteFile, scripted: Calls, pipeline: SpeechPipeline
) -> None:
    ScriptedTarget.configure(Script(after_claim=(*Script().after_claim, *PANIC)))
    path = write("late.yaml", HEAD + "steps:\n  - expect: {event: ws.open}\n")
    result = await run(path, pipeline, "scripted")
    assert result.status is Status.FAILED
    assert result.reason.startswith("device panic:"), result.reason
