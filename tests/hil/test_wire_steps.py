"""`expect_wire` / `expect_wire_absent` on the emulator through the runner's tap, and the
wire part every failure report now has (hil.expect.report)."""

from __future__ import annotations

import json
import re

import pytest

from hil.errors import ScenarioLoadError
from hil.result import Status
from hil.runner.run import run_scenario
from hil.scenario.loader import load_scenario
from hil.targets.registry import choose
from server.speech.pipeline import SpeechPipeline
from tests.hil.conftest import WriteFile

HEAD = "version: 1\nname: t\ndescription: d\nsteps:\n"
WAIT_IDLE = "  - expect: ws.open\n"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ("expect_wire: {}", "give exactly one of request, response, ws (found: none)"),
        ("expect_wire: {request: {}, ws: {}}", "(found: request, ws)"),
        ("expect_wire: {response: {path: '('}}", "bad regular expression '('"),
        ("expect_wire: {ws: {dir: sideways}}", "sideways"),
        ("expect_wire_absent: {ws: {type: error}}", "within"),
        ("expect_wire: {request: {status: 200}}", "status"),  # only responses have one
    ],
)
def test_bad_wire_steps_are_refused_at_load(write: WriteFile, step: str, problem: str) -> None:
    path = write("x.yaml", f"{HEAD}  - {step}\n")
    with pytest.raises(ScenarioLoadError, match=re.escape(problem)):
        load_scenario(path)


@pytest.mark.emu
async def test_the_wire_steps_see_the_claim_the_upgrade_and_the_frames(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    path = write(
        "w.yaml",
        HEAD
        + WAIT_IDLE
        + """\
  - expect_wire:
      request:
        method: POST
        path: /api/v1/pair/claim
        headers: {content-type: application/json}
        body: {device_id: "${device.device_id}", nonce: "[0-9a-f]{32}"}
      capture: {nonce: body.nonce}
  - expect_wire:
      response: {path: /api/v1/pair/claim, status: 200}
      capture: {ws_url: body.device_config.websocket_url}
  - expect_wire:
      request: {path: /api/v1/esp32/private/chat, headers: {Authorization: "Bearer .+"}}
  - expect_wire:
      ws: {dir: down, type: system, match: {data.type: connection_established}}
  - expect_wire_absent: {response: {status: "5\\\\d\\\\d"}, within: 100ms}
""",
    )
    artifacts = path.parent / "a"
    result = await run_scenario(
        load_scenario(path), target=choose("emulator"), artifact_dir=artifacts, pipeline=pipeline
    )
    assert result.status is Status.PASSED, result.detail
    assert str(result.variables["ws_url"]).startswith(f"{result.variables['server.ws_url']}/")
    assert result.variables["server.url"] != result.variables["server.direct_url"]
    records = [json.loads(line) for line in (artifacts / "wire.jsonl").read_text().splitlines()]
    nonce = next(
        r["body"]["json"]["nonce"] for r in records if r.get("path") == "/api/v1/pair/claim"
    )
    assert result.variables["nonce"] == nonce


@pytest.mark.emu
async def test_a_wire_miss_shows_the_closest_records_and_why(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    path = write(
        "w.yaml",
        HEAD + WAIT_IDLE + "  - expect_wire: {response: {path: /api/v1/esp32/config, status: 304},"
        " timeout: 300ms}\n",
    )
    result = await run_scenario(
        load_scenario(path), target=choose("emulator"), artifact_dir=path.parent / "a",
        pipeline=pipeline,
    )  # fmt: skip
    assert result.status is Status.FAILED
    assert "expected: a response on the wire with path =~ //api/v1/esp32/config/" in result.detail
    assert "#1 down GET /api/v1/esp32/config -> 200" in result.detail
    assert "status: 200 is not 304" in result.detail
    assert "wire log: " in result.detail


@pytest.mark.emu
async def test_every_expect_failure_shows_the_wire_around_it(
    write: WriteFile, pipeline: SpeechPipeline
) -> None:
    path = write("e.yaml", HEAD + WAIT_IDLE + "  - expect: {event: claim.fail, timeout: 200ms}\n")
    result = await run_scenario(
        load_scenario(path), target=choose("emulator"), artifact_dir=path.parent / "a",
        pipeline=pipeline,
    )  # fmt: skip
    assert result.status is Status.FAILED
    wire = result.detail.split("wire records (newest last; '>' = during this step):")[1]
    assert "POST /api/v1/pair/claim -> 200" in wire
    assert "GET /api/v1/esp32/private/chat -> 101" in wire
    assert "wire log: " in wire and "wire.jsonl" in wire
