"""Every built-in invariant on a real run: one where it holds, one where it fires.

Real scenario files run on the emulator against the embedded server through the tap.
Each invariant fires where a server fault breaks it (the fault scenarios with their
`exempt:` taken away), where the server misbehaves (a 304 stripped of its headers), or
where the device does (test-only patches of the emulated core: a missing token, an
unencoded query, a repeated nonce, an empty text). Where it holds, the test also checks
that the wire log held records the invariant judged, so a pass is not a vacuous one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emulator.core import chat as chat_module
from emulator.core import link as link_module
from hil.result import ScenarioResult, Status
from hil.rules.invariants import INVARIANT_IDS
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.scenario.model import Scenario
from hil.targets.registry import choose
from protocol.device_io import WsConnect
from protocol.messages import TextMessage
from server.routes.common import conditional_json

pytestmark = pytest.mark.emu

REPO = Path(__file__).resolve().parents[2]
Record = Mapping[str, Any]


async def run(scenario: Scenario, artifacts: Path) -> ScenarioResult:
    return await run_scenario(
        scenario, target=choose("emulator"), artifact_dir=artifacts, pipeline=shared_pipeline()
    )


def scenario(name: str, *, exempt: Mapping[str, str] | None = None) -> Scenario:
    loaded = load_scenario(REPO / "scenarios" / name)
    return loaded if exempt is None else dataclasses.replace(loaded, exempt=exempt)


def wire(artifacts: Path) -> list[Record]:
    lines = (artifacts / "wire.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _ws(d: str, kind: str) -> Callable[[Record], bool]:
    return lambda r: r["kind"] == "ws" and r["dir"] == d and r.get("type") == kind


# invariant -> (a scenario where it holds, records of the run it must have judged)
HOLDS: dict[str, tuple[str, Callable[[Record], bool]]] = {
    "downlink_frame_size": ("streaming/long_utterance.yaml", _ws("down", "audio_response")),
    "not_modified_headers": (
        "config/etag_304.yaml",
        lambda r: r["kind"] == "response" and r["status"] == 304,
    ),
    "upgrade_bearer": (
        "claim/happy.yaml",
        lambda r: r["kind"] == "request" and r["path"].endswith("/private/chat"),
    ),
    "no_5xx": ("claim/happy.yaml", lambda r: r["kind"] == "response"),
    "no_error_frame": ("streaming/one_turn.yaml", _ws("down", "text_response")),
    "query_encoded": (
        "streaming/child_name_with_spaces.yaml",
        lambda r: r["kind"] == "request" and "%20O%27Neil" in r["target"],
    ),
    "wire_decodes": ("streaming/one_turn.yaml", lambda r: r["kind"] in ("request", "ws")),
    "json_frames": ("streaming/one_turn.yaml", _ws("up", "audio_chunk")),
    "nonce_unique": (
        "claim/server_unavailable.yaml",
        lambda r: r["kind"] == "request" and r["path"] == "/api/v1/pair/claim",
    ),
}


def test_every_invariant_is_covered_here() -> None:
    assert set(HOLDS) == set(INVARIANT_IDS)


@pytest.mark.parametrize("invariant_id", INVARIANT_IDS)
async def test_it_holds_on_a_run_that_exercises_it(invariant_id: str, tmp_path: Path) -> None:
    name, judged = HOLDS[invariant_id]
    loaded = scenario(name)
    assert invariant_id not in loaded.exempt
    result = await run(loaded, tmp_path)
    assert result.status is Status.PASSED, result.detail
    records = [r for r in wire(tmp_path) if judged(r)]
    assert records, f"the run never exercised {invariant_id}"
    if invariant_id == "nonce_unique":
        assert len(records) >= 3  # two refused claims and the one that succeeds


def _fails_with(result: ScenarioResult, invariant_id: str) -> None:
    assert result.status is Status.FAILED
    assert result.reason.startswith(f"invariant {invariant_id} "), result.reason
    assert "wire record" in result.detail and "wire.jsonl" in result.detail
    assert f"exempt: {{{invariant_id}: <why>}}" in result.detail


@pytest.mark.parametrize(
    ("name", "invariant_id"),
    [
        ("faults/oversize_frame.yaml", "downlink_frame_size"),
        ("faults/unknown_type.yaml", "json_frames"),
        ("faults/invalid_json.yaml", "json_frames"),
        ("faults/binary_frame.yaml", "json_frames"),
        ("claim/server_unavailable.yaml", "no_5xx"),
    ],
)
async def test_a_server_fault_breaks_it_unless_exempted(
    name: str, invariant_id: str, tmp_path: Path
) -> None:
    assert invariant_id in load_scenario(REPO / "scenarios" / name).exempt
    _fails_with(await run(scenario(name, exempt={}), tmp_path), invariant_id)


async def test_a_304_without_its_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def strip(request: Any, body: dict[str, object], *, cache_control: str) -> Any:
        response = conditional_json(request, body, cache_control=cache_control)
        if response.status_code == 304:  # the original S15 server's 304 (defect 17)
            del response.headers["etag"]
            del response.headers["cache-control"]
        return response

    monkeypatch.setattr("server.routes.esp32.conditional_json", strip)
    _fails_with(await run(scenario("config/etag_304.yaml"), tmp_path), "not_modified_headers")


async def test_an_upgrade_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_token(conn_id: int, url: str, headers: object) -> WsConnect:
        return WsConnect(conn_id, url, ())  # the original firmware sent no JWT (defect 8)

    monkeypatch.setattr(link_module, "WsConnect", no_token)
    _fails_with(await run(scenario("claim/happy.yaml"), tmp_path), "upgrade_bearer")


async def test_a_query_not_encoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link_module, "percent_encode", lambda text, *args: text)  # defect 19
    result = await run(scenario("streaming/child_name_with_spaces.yaml"), tmp_path)
    _fails_with(result, "query_encoded")  # a raw space breaks the request line itself
    assert "Sam O'Neil" in result.reason


async def test_bytes_that_are_not_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With query_encoded switched off, the broken request line is still caught: it is not HTTP.
    monkeypatch.setattr(link_module, "percent_encode", lambda text, *args: text)
    loaded = scenario("streaming/child_name_with_spaces.yaml", exempt={"query_encoded": "test"})
    _fails_with(await run(loaded, tmp_path), "wire_decodes")


async def test_a_repeated_nonce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator import host as host_module

    monkeypatch.setattr(host_module, "os", SimpleNamespace(urandom=lambda n: b"\x42" * n))
    loaded = scenario("claim/server_unavailable.yaml")  # two 503s: the device retries
    _fails_with(await run(loaded, tmp_path), "nonce_unique")


async def test_an_error_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The device sends an empty text message; the server answers error{empty_text}.
    monkeypatch.setattr(chat_module, "TextMessage", lambda text: TextMessage(""))
    result = await run(scenario("streaming/text_message.yaml"), tmp_path)
    _fails_with(result, "no_error_frame")
