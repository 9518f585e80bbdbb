"""The `wokwi` target end to end: real scenarios through the real wokwi-client, offline.

Each test runs `hil.runner.run.run_scenario` with `WokwiTarget` against a local
`teddy-hil wokwi-server` (conftest): the build is uploaded, the simulation started,
provisioned over its console, and the scenario's steps run on its parsed event lines.
"""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget
from hil.targets.wokwi_target import WokwiTarget
from hil.wokwi.options import WokwiOptions
from protocol.image import build_app_image
from tests.hil_wokwi.conftest import REPO, LocalWokwi

pytestmark = pytest.mark.emu


async def run(path: Path, artifacts: Path, options: WokwiOptions) -> ScenarioResult:
    return await run_scenario(
        load_scenario(path),
        target=ChosenTarget(WokwiTarget, options),
        artifact_dir=artifacts,
        pipeline=shared_pipeline(),
    )


async def test_claim_happy_passes_on_the_simulated_board(
    local_wokwi: LocalWokwi, tmp_path: Path
) -> None:
    result = await run(
        REPO / "scenarios" / "claim" / "happy.yaml", tmp_path / "art", local_wokwi.options
    )
    assert result.status is Status.PASSED, result.detail
    assert {step.clock for step in result.steps} == {"wall"}
    device = tmp_path / "art" / "device"
    info = json.loads((device / "wokwi.json").read_text())
    assert info["upload_bytes"] == local_wokwi.app.stat().st_size  # no ELF beside it
    assert 0 < info["simulated_s"] <= info["wall_s"] + 1
    provisioning = (device / "provisioning.log").read_text()
    assert '"cmd":"factory-reset"' in provisioning and "set" in provisioning
    assert "host.wokwi.internal" in provisioning  # the gateway URL of the harness server
    events = [json.loads(line) for line in (tmp_path / "art" / "events.jsonl").open()]
    # The scenario's console starts at the boot after provisioning (a software reset).
    assert events[0]["event"] == "boot" and events[0]["data"]["reset_reason"] == "sw"
    names = [e["event"] for e in events]
    assert {"wifi.up", "config.ok", "claim.ok", "ws.open"} <= set(names)


SIMULATED = """\
version: 1
name: simulated-clock
description: boot and claim with every timeout counted in simulated time
clock: simulated
steps:
  - expect: boot
  - expect: {event: claim.ok, timeout: 20s}
  - expect: {event: state, match: {to: idle}}
  - wait: {seconds: 0.5}
  - expect_absent: {event: claim.fail, within: 300ms}
  - console: status
  - expect: {event: ota.applied, timeout: 700ms}
"""


async def test_timeouts_in_simulated_time(local_wokwi: LocalWokwi, tmp_path: Path) -> None:
    path = tmp_path / "simulated.yaml"
    path.write_text(SIMULATED)
    result = await run(path, tmp_path / "art", local_wokwi.options)
    assert result.status is Status.FAILED  # the last step waits for an OTA that never comes
    assert [s.status for s in result.steps] == ["passed"] * 6 + ["failed"]
    assert {s.clock for s in result.steps} == {"simulated"}
    assert "timed out after 700ms of simulated time" in result.detail
    saved = json.loads((tmp_path / "art" / "result.json").read_text())
    assert saved["steps"][3]["clock"] == "simulated"


def partition_table(entries: list[tuple[str, int, int, int, int]]) -> bytes:
    """The binary ESP-IDF partition table (esp_partition_info_t entries, 0xFF padded)."""
    raw = b"".join(
        struct.pack("<2sBBII16sI", b"\xaa\x50", ptype, sub, offset, size, name.encode(), 0)
        for name, ptype, sub, offset, size in entries
    )
    return raw + b"\xff" * (0xC00 - len(raw))


async def test_flasher_args_build_boots_the_first_app_slot(
    local_wokwi: LocalWokwi, tmp_path: Path
) -> None:
    """An `idf.py build` folder: sections at their offsets, the app where the table says."""
    build = tmp_path / "idf-build"
    (build / "bootloader").mkdir(parents=True)
    (build / "partition_table").mkdir()
    (build / "bootloader" / "bootloader.bin").write_bytes(b"\xe9" + bytes(4095))
    table = [
        ("nvs", 1, 2, 0x9000, 0x6000),
        ("otadata", 1, 0, 0xF000, 0x2000),
        ("phy_init", 1, 1, 0x11000, 0x1000),
        ("ota_0", 0, 0x10, 0x20000, 0x1F0000),  # firmware/partitions.csv
        ("ota_1", 0, 0x11, 0x210000, 0x1F0000),
    ]
    (build / "partition_table" / "partition-table.bin").write_bytes(partition_table(table))
    (build / "teddy.bin").write_bytes(build_app_image(version="1.2.3", payload=bytes(70_000)))
    (build / "teddy.elf").write_bytes(b"\x7fELF" + bytes(1000))
    files = {
        "0x1000": "bootloader/bootloader.bin",
        "0x8000": "partition_table/partition-table.bin",
        "0x20000": "teddy.bin",
    }
    args = {
        "flash_files": files,
        "flash_settings": {"flash_mode": "dio", "flash_size": "4MB", "flash_freq": "40m"},
        "app": {"offset": "0x20000", "file": "teddy.bin"},
    }
    (build / "flasher_args.json").write_text(json.dumps(args))
    options = replace(local_wokwi.options, build=build)
    result = await run(REPO / "scenarios" / "claim" / "happy.yaml", tmp_path / "art", options)
    assert result.status is Status.PASSED, result.detail
    assert result.variables["fw_version"] == "1.2.3"
    sim = local_wokwi.server.simulations[-1]
    assert {"flash-1000.bin", "flash-8000.bin", "flash-20000.bin", "teddy.elf"} <= set(sim.files)
    info = json.loads((tmp_path / "art" / "device" / "wokwi.json").read_text())
    assert info["upload_bytes"] == sum(p.stat().st_size for p in build.rglob("*.bin")) + 1004


async def test_audio_scenarios_are_skipped_with_the_reason(
    local_wokwi: LocalWokwi, tmp_path: Path
) -> None:
    result = await run(
        REPO / "scenarios" / "streaming" / "one_turn.yaml", tmp_path / "art", local_wokwi.options
    )
    assert result.status is Status.SKIPPED
    assert "needs capability 'audio_in'" in result.reason
    assert "Wokwi simulates no I2S" in result.reason


async def test_scenarios_for_another_image_are_skipped_before_simulating(
    local_wokwi: LocalWokwi, tmp_path: Path
) -> None:
    path = REPO / "scenarios" / "ota" / "older_version_skipped.yaml"  # device 1.3.0
    result = await run(path, tmp_path / "art", local_wokwi.options)
    assert result.status is Status.SKIPPED
    assert result.reason.startswith(
        "the Wokwi build runs firmware 1.0.0, the scenario needs 1.3.0 (device.firmware_version)"
    )
    assert local_wokwi.server.simulations == []  # no simulated time spent on it
