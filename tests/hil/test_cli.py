"""`teddy-hil` exit codes and output: run, validate, targets, schema."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hil import cli
from hil.runner import server_setup
from server.speech.pipeline import SpeechPipeline
from tests.hil.conftest import WriteFile

HEAD = "version: 1\ndescription: d\n"
PASSING = HEAD + "name: {name}\ntags: [smoke]\nsteps:\n  - expect: ws.open\n"
FAILING = HEAD + "name: {name}\nsteps:\n  - expect: {{event: ota.applied, timeout: 100ms}}\n"


def main(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def fast_pipeline(monkeypatch: pytest.MonkeyPatch, pipeline: SpeechPipeline) -> None:
    monkeypatch.setattr(server_setup, "_pipeline", pipeline)


@pytest.mark.unit
def test_validate_exit_codes(write: WriteFile, scenario_dir: Path) -> None:
    write("claim/a.yaml", PASSING.format(name="a"))
    write("common/g.yaml", "version: 1\nsteps:\n  - expect: boot\n")
    code, out = main("validate", str(scenario_dir))
    assert code == 0 and out.strip() == "2 file(s) checked, 0 problem(s) in 0 file(s)"
    bad = write("claim/b.yaml", HEAD + "name: b\nsteps:\n  - exepct: boot\n")
    write("common/h.yaml", "version: 1\nsteps:\n  - console: nope\n")
    code, out = main("validate", str(scenario_dir))
    assert code == 1
    assert f"unknown step 'exepct' at {bad}:5" in out
    assert "console line 'nope'" in out
    assert out.splitlines()[-1] == "4 file(s) checked, 2 problem(s) in 2 file(s)"
    assert main("validate", str(scenario_dir / "nothing-here"))[0] == 2


@pytest.mark.unit
def test_targets_and_schema() -> None:
    code, out = main("targets")
    assert code == 0
    assert "emulator: the Python device" in out
    wired = "audio_capture, audio_in, audio_out, button, network_faults, ota, power_cut, reset"
    assert f"capabilities: {wired}" in out  # serial: the most a bench entry can offer
    code, out = main("schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "teddy-hil scenario v1"


@pytest.mark.emu
@pytest.mark.usefixtures("fast_pipeline", "scripted")
def test_run_passes_fails_and_writes_junit(
    write: WriteFile, scenario_dir: Path, tmp_path: Path
) -> None:
    write("claim/one.yaml", PASSING.format(name="one"))
    write("claim/two.yaml", PASSING.format(name="two"))
    junit = tmp_path / "junit.xml"
    artifacts = tmp_path / "artifacts"
    args = ("run", str(scenario_dir), "--target", "scripted", "--artifacts", str(artifacts))
    code, out = main(*args, "--junit", str(junit))
    assert code == 0, out
    assert "[1/2] PASS one" in out and "[2/2] PASS two" in out
    assert "2 passed in" in out
    [run_dir] = list(artifacts.iterdir())
    assert (run_dir / "claim" / "one" / "result.json").is_file()
    root = ET.parse(junit).getroot()  # noqa: S314 - our own output
    assert root.get("tests") == "2" and root.get("failures") == "0"

    write("ota/three.yaml", FAILING.format(name="three"))
    code, out = main(*args)
    assert code == 1
    assert "[3/3] FAIL three" in out and "=== FAILED three ===" in out
    assert "expected: device event ota.applied" in out
    code, out = main(*args, "-k", "not three")
    assert code == 0 and "2 passed, 1 deselected" in out


@pytest.mark.emu
@pytest.mark.usefixtures("fast_pipeline", "scripted")
def test_run_exitfirst_invalid_files_and_usage_errors(
    write: WriteFile, scenario_dir: Path, tmp_path: Path
) -> None:
    write("a.yaml", FAILING.format(name="a"))
    write("b.yaml", PASSING.format(name="b"))
    args = ("run", str(scenario_dir), "--target", "scripted", "--artifacts", str(tmp_path / "a"))
    code, out = main(*args, "-x")
    assert code == 1 and "[1/2] FAIL a" in out and "[2/2]" not in out
    write("c.yaml", HEAD + "name: c\nsteps:\n  - exepct: boot\n")
    code, out = main(*args, "-k", "c.yaml")
    assert code == 1 and "FAIL c" in out and "invalid scenario: unknown step 'exepct'" in out
    assert main(*args, "-k", "nothing")[1].strip() == "teddy-hil: no scenarios selected"
    code, out = main("run", str(scenario_dir), "--target", "nope")
    assert code == 2 and "unknown target 'nope'; valid targets: emulator" in out
    assert main("run", str(scenario_dir / "missing.yaml"))[0] == 2
    assert main(*args, "-k", "a and")[0] == 2


@pytest.mark.unit
def test_a_closed_pipe_ends_quietly() -> None:
    # `teddy-hil targets | head -1`: the reader is gone before the listing is written.
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "hil.cli", "targets"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == cli.EXIT_BROKEN_PIPE
    assert "Traceback" not in done.stderr, done.stderr
