"""Without a token the wokwi target skips everything cleanly; `teddy-hil wokwi-server` runs.

The acceptance check of issue 6 on a fresh clone: `teddy-hil run scenarios --target
wokwi` with no `WOKWI_CLI_TOKEN` skips every scenario with the reason and exits 0, and
pytest shows the scenario items as skipped, not errors.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hil import cli
from hil.runner.session import plan
from tests.hil_wokwi.conftest import DUMMY_TOKEN, REPO, LocalWokwi

pytestmark = pytest.mark.emu


def test_run_without_a_token_skips_every_scenario_and_exits_0(tmp_path: Path) -> None:
    out = io.StringIO()
    scenarios = REPO / "scenarios"
    code = cli.main(
        ["run", str(scenarios), "--target", "wokwi", "--artifacts", str(tmp_path)],
        out=out,
        env={},  # the edge's environment: no WOKWI_CLI_TOKEN
    )
    text = out.getvalue()
    total = len(plan((scenarios,), keyword=None)[0])
    assert code == 0, text
    assert f"{total} skipped" in text and "passed" not in text and "failed" not in text
    assert text.count("needs $WOKWI_CLI_TOKEN") >= total


def test_pytest_shows_the_scenarios_as_skipped(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WOKWI_CLI_TOKEN"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "scenarios/claim",
            "--target",
            "wokwi",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "--artifacts",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    claims = len(list((REPO / "scenarios" / "claim").glob("*.yaml")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{claims} skipped" in proc.stdout and "error" not in proc.stdout.lower()
    assert "WOKWI_CLI_TOKEN" in proc.stdout


async def test_wokwi_server_command_prints_its_url() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hil.cli",
        "wokwi-server",
        "--listen",
        "127.0.0.1:0",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert first.startswith(b"wokwi server listening on ws://127.0.0.1:"), first
        assert first.rstrip().endswith(b"/api/ws/beta")
    finally:
        proc.terminate()
        assert await proc.wait() == 0


CLAIM_AND_BUTTON = """\
version: 1
name: wokwi-claim-then-button
description: >
  Issue 6 acceptance: the toy claims itself on the simulated board, then the push button
  (GPIO0, diagram part btn1) is pressed through set_control and the toy starts listening.
device: {child_id: child-001}
steps:
  - include: common/boot_and_claim.yaml
  # A GPIO edge prints no SPEC §9.3 reply, hence `reply: none`.
  - console: {line: button press, reply: none}
  - expect: {event: state, match: {to: listening}}
  - console: {line: button release, reply: none}
"""


def test_claim_then_button_through_the_cli_prints_the_summary(
    local_wokwi: LocalWokwi, tmp_path: Path
) -> None:
    """Real wokwi-client end to end: upload, console lines -> events, button, summary."""
    folder = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios" / "common", folder / "common")  # for the include
    scenario = folder / "claim_then_button.yaml"
    scenario.write_text(CLAIM_AND_BUTTON, encoding="utf-8")
    artifacts = tmp_path / "artifacts"
    out = io.StringIO()
    # The edge: the token and the API server as the environment gives them (the defaults
    # of the wokwi options), the build and the circuit as flags.
    env = {"WOKWI_CLI_TOKEN": DUMMY_TOKEN, "WOKWI_CLI_SERVER": local_wokwi.url}
    flags = ["--wokwi-build", str(local_wokwi.app)]
    flags += ["--wokwi-diagram", str(REPO / "firmware" / "diagram.json")]
    code = cli.main(
        ["run", str(scenario), "--target", "wokwi", "--artifacts", str(artifacts), *flags],
        out=out,
        env=env,
    )
    text = out.getvalue()
    assert code == 0, text
    assert "1 passed" in text and "wokwi-claim-then-button" in text
    events_file = next(artifacts.glob("*/*/events.jsonl"))
    names = [json.loads(line)["event"] for line in events_file.open()]
    assert names.index("claim.ok") < names.index("ws.open")
    states = [
        json.loads(line)["data"].get("to")
        for line in events_file.open()
        if json.loads(line)["event"] == "state"
    ]
    assert "listening" in states
    info = json.loads(next(artifacts.glob("*/*/device/wokwi.json")).read_text())
    assert info["upload_bytes"] == local_wokwi.app.stat().st_size
