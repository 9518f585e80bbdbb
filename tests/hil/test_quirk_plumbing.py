"""How a scenario's `device: quirks:` reaches each target (SPEC Appendix C).

The emulator gets (quirk, value) pairs in DeviceSettings, teddy-fw-host `--quirk
NAME[=VALUE]` flags, teddy-emulator the same flags; a console-provisioned board cannot
have them from its first boot (capability `quirks` missing, with the note why), and a bad
quirk is refused at load with the valid names and the file:line.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulator.cli import build_parser, settings_from
from hil.errors import HilError, ScenarioLoadError
from hil.scenario.loader import load_scenario
from hil.targets.base import QUIRKS, TargetSetup
from hil.targets.console_provision import ConsoleProvisioner
from hil.targets.emulator import device_settings
from hil.targets.firmware_host import device_flags
from hil.targets.registry import get_target
from tests.hil.conftest import WriteFile

pytestmark = pytest.mark.unit

QUIRKY = {"quirks": ["reuse_nonce", {"present_token": "a.b.c"}]}


def test_firmware_host_gets_quirk_flags() -> None:
    flags, settings = device_flags(QUIRKY)
    pairs = [flags[i + 1] for i, flag in enumerate(flags) if flag == "--quirk"]
    assert pairs == ["reuse_nonce", "present_token=a.b.c"]
    assert "quirks" not in settings
    with pytest.raises(HilError, match="unknown quirk 'nope'"):
        device_flags({"quirks": ["nope"]})


def test_emulator_gets_quirk_pairs(tmp_path: Path) -> None:
    setup = TargetSetup(
        server_url="http://127.0.0.1:9", work_dir=tmp_path, audio_dir=tmp_path, device=QUIRKY
    )
    assert device_settings(setup).quirks == (("reuse_nonce", ""), ("present_token", "a.b.c"))
    bad = TargetSetup(
        server_url="http://s", work_dir=tmp_path, audio_dir=tmp_path, device={"quirks": ["x"]}
    )
    with pytest.raises(HilError, match="unknown quirk 'x'"):
        device_settings(bad)


def test_teddy_emulator_takes_and_checks_quirk_flags() -> None:
    base = ["--server", "http://s", "--flash", "f"]
    args = build_parser().parse_args(
        [*base, "--quirk", "ignore_etag", "--quirk", "present_token=t"]
    )
    assert settings_from(args).quirks == (("ignore_etag", ""), ("present_token", "t"))
    with pytest.raises(ValueError, match="--quirk: quirk reuse_nonce takes no value"):
        settings_from(build_parser().parse_args([*base, "--quirk", "reuse_nonce=1"]))


def test_console_provisioned_targets_lack_the_capability_and_refuse_device_quirks() -> None:
    for name in ("serial", "wokwi"):
        cls = get_target(name)
        assert QUIRKS not in cls.declared_capabilities
        assert "RAM" in cls.capability_notes[QUIRKS]
    for name in ("emulator", "firmware-host"):
        assert QUIRKS in get_target(name).declared_capabilities

    async def write(line: str) -> None:
        raise AssertionError(f"nothing may be sent: {line}")

    prov = ConsoleProvisioner(write, who="board b", hint="h")
    with pytest.raises(HilError, match=r"board b: device\.quirks: device quirks live in RAM"):
        asyncio.run(prov.configure("http://s", QUIRKY))


def test_a_bad_quirk_is_refused_at_load(write: WriteFile) -> None:
    path = write(
        "q.yaml",
        "version: 1\nname: q\ndescription: d\n"
        "device:\n  quirks: [nope]\nsteps:\n  - expect: boot\n",
    )
    with pytest.raises(ScenarioLoadError, match=r"'nope' is not valid for device.quirks.*q.yaml:5"):
        load_scenario(path)
