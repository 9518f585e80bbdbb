"""Pieces of the Wokwi support on their own: build discovery, app lookup, diagram, URLs,
capability notes, the `clock` scenario key, and the wall-time fallback elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.errors import HilError, ScenarioLoadError
from hil.result import Status
from hil.runner.run import missing_capability, run_scenario
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget
from hil.targets.emulator import EmulatorTarget
from hil.targets.wokwi_target import WokwiTarget, sim_server_url
from hil.wokwi.options import WokwiOptions
from hil.wokwi.project import Flash, button_part, find_app, find_build, parse_diagram
from protocol.image import build_app_image
from tests.hil_wokwi.conftest import REPO
from tests.hil_wokwi.test_target import partition_table
from tests.server.helpers import scripted_pipeline

APP = build_app_image(version="2.0.0", payload=bytes(70_000))


@pytest.mark.unit
def test_find_app_follows_the_partition_table_then_0x10000_then_the_file() -> None:
    table = partition_table([("nvs", 1, 2, 0x9000, 0x6000), ("ota_0", 0, 0x10, 0x20000, 0x1000)])
    found = find_app(Flash({0x1000: b"\xe9boot", 0x8000: table, 0x20000: APP}))
    assert not isinstance(found, str) and found.version == "2.0.0"
    merged = bytearray(b"\xff" * 0x10000) + APP
    merged[0x1000:0x1005] = b"\xe9boot"
    found = find_app(Flash({0: bytes(merged)}))  # a merged image without a table
    assert not isinstance(found, str) and found.image == APP
    found = find_app(Flash({0: APP}))  # a bare app .bin (70 kB: reaches past 0x10000)
    assert not isinstance(found, str) and found.version == "2.0.0"
    broken = find_app(Flash({0x8000: table, 0x20000: APP[:1000]}))
    assert isinstance(broken, str)
    assert broken.startswith("app image at 0x20000 (partition table) is not valid: truncated")
    assert find_app(Flash({0x9000: b"nvs"})) == "no firmware section at 0x0, 0x8000 or 0x10000"


@pytest.mark.unit
def test_find_build_says_what_to_build(tmp_path: Path) -> None:
    with pytest.raises(HilError, match=r"no ESP-IDF build at .*--wokwi-build"):
        find_build(tmp_path / "nowhere")
    (tmp_path / "teddy.bin").write_bytes(APP)
    (tmp_path / "teddy.elf").write_bytes(b"\x7fELF")
    build = find_build(tmp_path)
    assert build.firmware == tmp_path / "teddy.bin" and build.elf == tmp_path / "teddy.elf"
    (tmp_path / "flasher_args.json").write_text(json.dumps({"flash_files": {"0x10000": "x"}}))
    with pytest.raises(HilError, match="missing build output"):
        find_build(tmp_path)
    (tmp_path / "flasher_args.json").write_text("{")
    with pytest.raises(HilError, match=r"not a flasher_args\.json"):
        find_build(tmp_path)


@pytest.mark.unit
def test_the_repo_diagram_wires_the_button_to_gpio0() -> None:
    diagram = parse_diagram((REPO / "firmware" / "diagram.json").read_text())
    assert button_part(diagram) == "btn1"
    assert button_part(diagram, gpio=4) is None
    parts = [{"type": "board-esp32-devkit-c-v4", "id": "esp"}]
    loose: dict[str, object] = {"parts": [*parts, {"type": "wokwi-pushbutton", "id": "b"}]}
    assert button_part(loose) is None
    with pytest.raises(HilError, match="parts"):
        parse_diagram("{}")


@pytest.mark.unit
def test_server_url_through_the_gateway_or_public() -> None:
    assert sim_server_url("http://127.0.0.1:8123", None) == "http://host.wokwi.internal:8123"
    public = WokwiOptions(public_url="https://teddy.example.org/").public_url
    assert sim_server_url("http://127.0.0.1:8123", public) == "https://teddy.example.org"


@pytest.mark.unit
def test_unavailable_without_a_token_and_notes_in_skip_reasons() -> None:
    assert "WOKWI_CLI_TOKEN" in (WokwiTarget.unavailable_reason(WokwiOptions()) or "")
    assert WokwiTarget.unavailable_reason(WokwiOptions(token="t")) is None
    needs = {"audio_out": "step 3 `expect_reply` at x.yaml:9"}
    offered = WokwiTarget.declared_capabilities
    reason = missing_capability(needs, offered, WokwiTarget.capability_notes)
    assert reason == (
        "needs capability 'audio_out' (step 3 `expect_reply` at x.yaml:9); Wokwi simulates no"
        " I2S, so the toy has no microphone or speaker there; available: button, ota"
    )
    assert missing_capability(needs, offered) == (
        "needs capability 'audio_out' (step 3 `expect_reply` at x.yaml:9); available: button, ota"
    )


HEAD = "version: 1\nname: c\ndescription: d\n"


@pytest.mark.unit
def test_clock_key_in_scenarios_and_steps(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + "clock: simulated\nsteps:\n  - {expect: boot, clock: wall}\n")
    scenario = load_scenario(path)
    assert scenario.clock == "simulated" and scenario.steps[0].clock == "wall"
    path.write_text(HEAD + "steps:\n  - expect: boot\n")
    scenario = load_scenario(path)
    assert scenario.clock == "wall" and scenario.steps[0].clock is None  # format v1 as before
    path.write_text(HEAD + "steps:\n  - {expect: boot, clock: sometimes}\n")
    with pytest.raises(ScenarioLoadError, match="sometimes"):
        load_scenario(path)


@pytest.mark.emu
async def test_targets_without_a_simulated_clock_use_wall_time(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + "clock: simulated\nsteps:\n  - expect: ws.open\n")
    result = await run_scenario(
        load_scenario(path),
        target=ChosenTarget.of(EmulatorTarget),
        artifact_dir=tmp_path / "art",
        pipeline=scripted_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail
    assert [s.clock for s in result.steps] == ["wall"]
