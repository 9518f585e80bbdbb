"""The emulator follows the device model: settings, CLI, NVS types, volume, appended audio."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import pytest

from emulator.audio import append_wav, scale_volume
from emulator.cli import build_parser, settings_from
from emulator.core.boot import BuildConfig
from emulator.core.effects import NvsSet, SaveAudio, SetVolume
from emulator.core.inputs import CaptureChunk, CaptureEnded, CaptureStarted
from emulator.host import DeviceSettings
from protocol import device_model as dm
from tests.emulator.core_driver import Driver

pytestmark = pytest.mark.unit

HARNESS = ("server_url", "flash_dir", "audio_dir")


def test_device_settings_are_the_model_settings_with_their_defaults() -> None:
    fields = {f.name: f for f in dataclasses.fields(DeviceSettings)}
    assert set(fields) == {*HARNESS, "timing", "quirks", *(s.name for s in dm.SETTINGS)}
    for spec in dm.SETTINGS:
        assert fields[spec.name].default == spec.default, spec.name


def test_build_config_is_the_build_settings() -> None:
    names = {f.name for f in dataclasses.fields(BuildConfig)}
    assert names == {"server_url", *(s.name for s in dm.SETTINGS if s.build)}


def test_the_command_line_is_the_model_tables() -> None:
    parser = build_parser()
    flags = {a.option_strings[0]: a for a in parser._actions if a.option_strings[1:] == []}
    flags.pop("-h", None)
    wanted = [s for s in (*dm.HOST_OPTIONS, *dm.SETTINGS) if "emulator" in s.hosts]
    assert set(flags) == {s.flag for s in wanted}
    args = parser.parse_args(["--server", "http://s", "--flash", "f"])
    settings = settings_from(args)
    assert settings.pacing == "realtime"  # the command line's default (cli_default)
    assert settings.timing == dm.DeviceTiming.realistic()
    assert settings.device_id == dm.DEVICE_DEFAULTS.device_id and settings.volume == 70


def test_timing_set_overrides_a_model_field_and_refuses_others() -> None:
    parser = build_parser()
    base = ["--server", "http://s", "--flash", "f", "--timing", "fast"]
    args = parser.parse_args(
        [*base, "--timing-set", "ota_retry_ms=7", "--timing-set", "claim_jitter=0.5"]
    )
    timing = settings_from(args).timing
    assert (timing.ota_retry_ms, timing.claim_jitter) == (7, 0.5)
    with pytest.raises(ValueError, match="NAME one of claim_backoff_base_ms"):
        settings_from(parser.parse_args([*base, "--timing-set", "coffee_ms=1"]))


@pytest.mark.parametrize("argv", [["--volume", "101"], ["--device-id", "short"], ["--chip", "z80"]])
def test_limits_and_choices_of_the_model_are_enforced(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--server", "http://s", "--flash", "f", *argv])


def test_nvs_writes_are_typed_by_the_model() -> None:
    d = Driver()
    with pytest.raises(TypeError, match="settings/volume holds a u32"):
        d.device.ctx.nvs_set(dm.NVS_SETTINGS_VOLUME, -1)
    with pytest.raises(TypeError, match="auth/access_token holds a str"):
        d.device.ctx.nvs_set(dm.NVS_AUTH_ACCESS_TOKEN, 5)  # type: ignore[misc]  # mypy refuses it too


def test_volume_is_set_at_boot_and_at_once_on_set() -> None:
    d = Driver()
    assert d.all(SetVolume) == [SetVolume(70)]
    d.line("set volume 15")
    assert d.last(SetVolume) == SetVolume(15)
    assert d.named("cmd.ok")[-1] == {"cmd": "set", "key": "volume", "value": 15}


def test_child_age_is_stored_clamped_to_its_i32_key() -> None:
    """SPEC §9.2: any integer is accepted; NVS holds a 32-bit signed one (as in C)."""
    d = Driver()
    d.line("set child_age -99999999999")
    assert d.last(NvsSet) == NvsSet("settings", "child_age", -(2**31))
    assert d.named("cmd.ok")[-1]["value"] == -(2**31)


def test_sent_audio_is_appended_chunk_by_chunk() -> None:
    d = Driver()
    d.to_idle()
    d.line("talk hello")
    capture = d.device.chat.capture
    assert capture is not None
    d.feed(CaptureStarted(capture.capture_id))
    d.feed(CaptureChunk(capture.capture_id, b"\x01\x00" * 3000))
    d.feed(CaptureChunk(capture.capture_id, b"\x02\x00" * 3000))
    d.feed(CaptureEnded(capture.capture_id))
    saves = d.all(SaveAudio)
    name = saves[0].name
    assert name.startswith("tx-") and all(s.name == name for s in saves)
    assert [len(s.pcm) for s in saves] == [6000, 6000, 0]  # never the whole utterance


def test_append_wav_keeps_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "tx-u.wav"
    append_wav(path, b"\x01\x00" * 10, create=True)
    append_wav(path, b"\x02\x00" * 5, create=False)
    with wave.open(str(path), "rb") as wav:
        assert wav.getnframes() == 15 and wav.getframerate() == 16000
    append_wav(path, b"", create=True)  # a new boot starts the recording afresh
    with wave.open(str(path), "rb") as wav:
        assert wav.getnframes() == 0


def test_scale_volume() -> None:
    pcm = (1000).to_bytes(2, "little", signed=True) + (-1000).to_bytes(2, "little", signed=True)
    assert scale_volume(pcm, 100) == pcm
    assert scale_volume(pcm, 50) == (500).to_bytes(2, "little", signed=True) + (-500).to_bytes(
        2, "little", signed=True
    )
    assert scale_volume(pcm, 0) == bytes(4)


@pytest.mark.parametrize(
    ("device", "problem"),
    [
        ({"volume": 101}, "device.volume must be 0..100"),
        ({"device_id": "short"}, "device.device_id must match"),
        ({"pacing": "slow"}, "device.pacing must be one of fast, realtime"),
        ({"child_age": "nine"}, "device.child_age must be an integer"),
    ],
)
def test_scenario_device_values_are_checked_against_the_model(
    tmp_path: Path, device: dict[str, object], problem: str
) -> None:
    """Both harness targets refuse a bad `device:` value with the model's rule."""
    from hil.errors import HilError
    from hil.targets.base import TargetSetup
    from hil.targets.emulator import device_settings
    from hil.targets.firmware_host import device_flags

    setup = TargetSetup("http://127.0.0.1:1", tmp_path / "d", tmp_path / "a", device)
    with pytest.raises(HilError, match=problem):
        device_settings(setup)
    with pytest.raises(HilError, match=problem):
        device_flags(device)
