"""The `firmware-host` target: the C firmware (teddy-fw-host) against the real server.

Build first: `cmake -S firmware/host -B build/host && cmake --build build/host -j2`
(or give pytest `--fw-host PATH` / `TEDDY_FW_HOST`, e.g. a sanitizer build). Without the
binary every test here is skipped with the build command as the reason (the `host_fw`
marker: hil.pytest_plugin); the tests run the binary this pytest run was given.
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from hil.errors import HilError
from hil.pytest_plugin import OptionsFor
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget, TargetSetup
from hil.targets.firmware_host import (
    FirmwareHostOptions,
    FirmwareHostTarget,
    device_flags,
    reset_reason,
)
from hil.targets.registry import get_target

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.host_fw  # skipped with the reason when the binary is missing


@pytest.fixture
def fw_host(target_options: OptionsFor) -> ChosenTarget:
    """The firmware-host target with the binary this pytest run was given."""
    return ChosenTarget(FirmwareHostTarget, target_options(FirmwareHostOptions))


# One scenario per area the issue names: claim, config, streaming, OTA (with a power cut
# mid-download), age. The whole suite runs through `teddy-hil run --target firmware-host`.
EXAMPLES = [
    REPO / "scenarios" / name
    for name in (
        "claim/happy.yaml",
        "config/etag_304.yaml",
        "streaming/one_turn.yaml",
        "ota/power_cut_resume.yaml",
        "ota/selftest_rollback.yaml",
        "age/age_14.yaml",
        "faults/oversize_frame.yaml",
    )
]


@pytest.mark.parametrize("path", EXAMPLES, ids=[f"{p.parent.name}/{p.stem}" for p in EXAMPLES])
async def test_example_scenarios_pass_on_the_firmware(
    path: Path, tmp_path: Path, fw_host: ChosenTarget
) -> None:
    result = await run_scenario(
        load_scenario(path),
        target=fw_host,
        artifact_dir=tmp_path,
        pipeline=shared_pipeline(),  # real speech-to-text: one_turn checks the transcript
    )
    assert result.status is Status.PASSED, result.detail
    flash = tmp_path / "device" / "flash"
    assert (flash / "nvs.json").is_file() and (flash / "otadata.json").is_file()
    stderr = tmp_path / "device" / "teddy-fw-host.stderr.log"
    assert "Sanitizer" not in stderr.read_text(errors="replace")


async def test_replies_and_utterances_are_wav_files(tmp_path: Path, fw_host: ChosenTarget) -> None:
    path = REPO / "scenarios" / "streaming" / "one_turn.yaml"
    result = await run_scenario(
        load_scenario(path),
        target=fw_host,
        artifact_dir=tmp_path,
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail
    files = sorted((tmp_path / "audio").glob("*.wav"))
    assert sorted(p.name[:3] for p in files) == ["out", "rx-", "tx-"]  # out-: the speaker
    for file in files:  # SPEC §7.1: PCM s16le, 16 kHz, mono
        with wave.open(str(file), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
            assert wav.getnframes() > 1600


async def test_power_cut_and_reset_reach_the_device(tmp_path: Path, fw_host: ChosenTarget) -> None:
    path = tmp_path / "power.yaml"
    path.write_text(
        """\
version: 1
name: power
description: a power cut loses the connection; a reset boots again (SPEC §8.2)
device: {device_id: Teddy-ESP32-0077, child_age: 9}
steps:
  - expect: {event: boot, match: {reset_reason: poweron, device_id: "${device.device_id}"}}
  - expect: ws.open
  - expect_server: {event: ws.open, match: {device_id: teddy-esp32-0077}}
  - power_cut: {}
  # no close frame: the server reports an abnormal end (uvicorn says 1005 or 1006)
  - expect_server: {event: ws.close, match: {code: "100[56]"}}
  - expect_absent: {event: boot, within: 300ms}
  - reboot: {reason: ext}
  - expect: {event: boot, match: {reset_reason: ext}}
  - expect: ws.open
  - expect_absent: {event: claim.ok, within: 300ms}
  - console: status
  - expect: {event: cmd.ok, match: {cmd: status, child_age: "${device.child_age}"}}
""",
        encoding="utf-8",
    )
    result = await run_scenario(
        load_scenario(path),
        target=fw_host,
        artifact_dir=tmp_path / "run",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail


def test_registered_with_honest_capabilities() -> None:
    assert get_target("firmware-host") is FirmwareHostTarget
    assert FirmwareHostTarget.declared_capabilities == {
        "audio_in",
        "audio_out",
        "audio_capture",  # port_linux's speaker writes out-<id>.wav (the DAC's output)
        "ota",
        "power_cut",
        "network_faults",
        "button",
        "reset",
        "identity",  # --device-id / --oob-secret flags
        "device_files",  # --flash DIR: nvs.json, otadata.json, the slots
        "multi_device",  # one process per device, each with its own --flash
        "quirks",  # device: quirks -> --quirk NAME[=VALUE] (SPEC Appendix C)
    }


def test_device_settings_become_flags(tmp_path: Path) -> None:
    flags, settings = device_flags(
        {"child_age": 14, "oob_secret": "AB" * 32, "timing": {"ota_retry_ms": 5000}}
    )
    assert flags[:2] == ["--timing", "fast"]
    assert flags[flags.index("--child-age") + 1] == "14"
    assert flags[flags.index("--oob-secret") + 1] == "AB" * 32
    assert flags[-2:] == ["--timing-set", "ota_retry_ms=5000"]
    assert settings["pacing"] == "fast" and settings["firmware_version"] == "1.0.0"
    with pytest.raises(HilError, match=r"device: unknown setting\(s\) colour"):
        device_flags({"colour": "brown"})
    with pytest.raises(HilError, match=r"device\.timing: unknown setting nope"):
        device_flags({"timing": {"nope": 1}})
    where = ("http://127.0.0.1:1", tmp_path / "d", tmp_path / "a")
    setup = TargetSetup(*where, device={"child_age": 5}, options=FirmwareHostOptions())
    assert FirmwareHostTarget(setup).device_vars()["child_age"] == 5


def test_reset_reasons_use_the_spec_spelling() -> None:
    assert reset_reason("power_on") == "poweron"
    assert reset_reason("task_wdt") == "task_wdt"
    assert reset_reason("cosmic_ray") == "unknown"


def test_missing_binary_says_how_to_build_it(tmp_path: Path) -> None:
    reason = FirmwareHostTarget.unavailable_reason(FirmwareHostOptions(binary=tmp_path / "nope"))
    assert reason is not None and "cmake -S firmware/host -B build/host" in reason
