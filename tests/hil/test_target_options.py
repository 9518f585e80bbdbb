"""Typed target options: parsing, validation when built, the registry's flag check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from hil.serial.options import SerialOptions
from hil.targets.base import ChosenTarget, TargetSetup
from hil.targets.emulator import EmulatorTarget
from hil.targets.firmware_host import FirmwareHostOptions, FirmwareHostTarget
from hil.targets.options import (
    NoOptions,
    OptionError,
    TargetOptions,
    build_options,
    option,
    option_fields,
)
from hil.targets.registry import all_targets, choose, get_target, options_types, register
from hil.targets.serial_target import SerialTarget
from hil.wokwi.options import WokwiOptions
from tests.hil.scripted_target import ScriptedTarget

pytestmark = pytest.mark.unit


def test_a_flag_beats_its_variable_and_the_variable_beats_the_default() -> None:
    env = {"TEDDY_SERIAL_PORT": "/dev/ttyENV", "TEDDY_LOCK_WAIT": "2m"}
    from_env = build_options(SerialOptions, {}, env)
    assert from_env.port == "/dev/ttyENV" and from_env.lock_wait_s == 120.0
    from_flag = build_options(SerialOptions, {"port": "/dev/ttyFLAG"}, env)
    assert from_flag.port == "/dev/ttyFLAG"
    assert build_options(SerialOptions, {}, {}) == SerialOptions()
    assert SerialOptions().restore == "otadata" and SerialOptions().lock_wait_s == 60.0


def test_blank_text_is_not_given_but_an_empty_capability_list_declares_nothing() -> None:
    blank = build_options(SerialOptions, {}, {"TEDDY_SERIAL_PORT": "  ", "TEDDY_BENCH": ""})
    assert blank.port is None and blank.bench is None
    nothing = build_options(SerialOptions, {}, {"TEDDY_SERIAL_CAPABILITIES": ""})
    assert nothing.capabilities == frozenset()
    listed = build_options(SerialOptions, {"capabilities": "audio_in, button"}, {})
    assert listed.capabilities == frozenset({"audio_in", "button"})
    env = {"TEDDY_SERIAL_CAPABILITIES": "audio_in"}
    board = build_options(SerialOptions, {"capabilities": "board"}, env)  # the flag wins
    assert board.capabilities is None


def test_bad_values_name_the_option_what_is_wrong_and_what_to_do() -> None:
    with pytest.raises(OptionError) as info:
        SerialOptions(reset="yank")
    assert str(info.value) == (
        "serial option reset (--serial-reset / $TEDDY_SERIAL_RESET): 'yank' is not a reset"
        " method; use one of classic, usb-jtag, reconnect, console, none"
    )
    with pytest.raises(OptionError, match=r"capabilities .*unknown laser; list some of audio_in"):
        SerialOptions(capabilities=frozenset({"audio_in", "laser"}))
    with pytest.raises(OptionError, match=r"board .*no bench file is given; pass --bench FILE"):
        SerialOptions(board="bear-1")
    with pytest.raises(OptionError, match=r"restore .*'erase-all' is not a restore method"):
        SerialOptions(restore="erase-all")
    with pytest.raises(OptionError, match=r"lock_wait_s .*-1.0 is not >= 0"):
        SerialOptions(lock_wait_s=-1.0)
    with pytest.raises(OptionError, match=r"lock_wait_s .*nan is not >= 0"):
        build_options(SerialOptions, {"lock_wait_s": "nan"}, {})


def test_text_that_does_not_parse_names_where_it_came_from() -> None:
    with pytest.raises(OptionError) as info:
        build_options(SerialOptions, {}, {"TEDDY_LOCK_WAIT": "soon"})
    message = str(info.value)
    assert message.startswith("serial option lock_wait_s ($TEDDY_LOCK_WAIT='soon'): ")
    assert "is not a duration (write e.g. 500ms" in message
    with pytest.raises(OptionError, match=r"\(--lock-wait='soon'\)"):
        build_options(SerialOptions, {"lock_wait_s": "soon"}, {})


def test_wokwi_urls_are_checked_and_the_token_stays_out_of_reprs() -> None:
    with pytest.raises(OptionError, match=r"api_url \(--wokwi-api-url / \$WOKWI_CLI_SERVER\)"):
        WokwiOptions(api_url="http://127.0.0.1:9177")
    with pytest.raises(OptionError, match=r"public_url .*not an http:// or https:// URL"):
        WokwiOptions(public_url="teddy.example.org")
    options = build_options(WokwiOptions, {}, {"WOKWI_CLI_TOKEN": "sekrit-token"})
    assert options.token == "sekrit-token" and "sekrit" not in repr(options)
    assert options.api_url == "wss://wokwi.com/api/ws/beta"


def test_availability_comes_from_the_options_not_the_environment(tmp_path: Path) -> None:
    assert SerialTarget.unavailable_reason(SerialOptions()) is not None
    assert SerialTarget.unavailable_reason(SerialOptions(port="socket://127.0.0.1:1")) is None
    missing = FirmwareHostOptions(binary=tmp_path / "teddy-fw-host")
    assert "is not built" in (FirmwareHostTarget.unavailable_reason(missing) or "")
    script = tmp_path / "teddy-fw-host"
    script.write_text("#!/bin/sh\n")
    assert "not executable" in (FirmwareHostTarget.unavailable_reason(missing) or "")
    script.chmod(0o755)
    assert FirmwareHostTarget.unavailable_reason(missing) is None


def test_declared_wiring_narrows_what_a_serial_target_offers_before_start() -> None:
    declared = SerialOptions(port="/dev/ttyUSB0", capabilities=frozenset({"button"}))
    offered = ChosenTarget(SerialTarget, declared).offered_capabilities()
    assert offered == {"ota", "reset", "power_cut", "button"}
    undeclared = ChosenTarget(SerialTarget, SerialOptions(port="/dev/ttyUSB0"))
    assert undeclared.offered_capabilities() == SerialTarget.declared_capabilities


def test_a_target_given_another_targets_options_is_told_which_it_takes(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="target serial takes SerialOptions, got WokwiOptions"):
        ChosenTarget(SerialTarget, WokwiOptions())
    setup = TargetSetup("http://127.0.0.1:1", tmp_path / "d", tmp_path / "a")
    with pytest.raises(OptionError, match=r"needs SerialOptions, got NoOptions: build its"):
        SerialTarget(setup)
    assert choose("emulator") == ChosenTarget(EmulatorTarget, NoOptions())
    assert choose("serial").options == SerialOptions()


@dataclass(frozen=True)
class _PortClash(TargetOptions):
    label: ClassVar[str] = "clash"
    where: str | None = field(default=None, metadata=option(flag="--port", help="a port"))


def test_two_targets_cannot_claim_one_flag() -> None:
    class ClashTarget(ScriptedTarget):
        options_type = _PortClash

    with pytest.raises(ValueError, match=r"--port, already a flag of target 'serial'"):
        register("clash")(ClashTarget)
    assert "clash" not in all_targets()


def test_every_builtin_option_has_help_a_flag_or_variable_and_unique_flags() -> None:
    flags: list[str] = []
    for kind in options_types():
        for name, spec in option_fields(kind):
            assert spec.help and (spec.flag or spec.env), f"{kind.__name__}.{name}"
            flags += [spec.flag] if spec.flag else []
    assert len(flags) == len(set(flags))
    assert get_target("serial").options_type is SerialOptions
    assert get_target("wokwi").options_type is WokwiOptions
    assert get_target("firmware-host").options_type is FirmwareHostOptions
    assert get_target("emulator").options_type is NoOptions


def test_the_targets_section_of_hil_readme_lists_every_option() -> None:
    text = (Path(__file__).resolve().parents[2] / "hil" / "README.md").read_text("utf-8")
    for kind in options_types():
        if kind.__module__.startswith("tests."):
            continue  # test doubles
        assert f"`{kind.__name__}`" in text
        for name, spec in option_fields(kind):
            wanted = f"`{spec.flag}` (`{spec.env}`)" if spec.flag else f"`{spec.env}`"
            assert wanted in text, f"{kind.__name__}.{name}: hil/README.md lacks {wanted}"
