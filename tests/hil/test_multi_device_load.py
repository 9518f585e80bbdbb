"""Loading scenarios with several devices: `devices:`, each step's `on:`, their variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ScenarioLoadError
from hil.runner.devices import connection_owners
from hil.scenario.loader import load_scenario
from hil.scenario.model import DEFAULT_DEVICE
from hil.targets.base import MULTI_DEVICE
from tests.hil.conftest import WriteFile

pytestmark = pytest.mark.unit

HEAD = "version: 1\nname: t\ndescription: d\n"
TWO = "devices:\n  a: {device_id: Teddy-ESP32-00A1}\n  b: {device_id: Teddy-ESP32-00B2}\n"


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioLoadError) as info:
        load_scenario(path)
    return [p.message for p in info.value.problems]


def test_steps_go_to_the_first_device_unless_they_say_on(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        HEAD + TWO + "steps:\n  - expect: boot\n  - expect: boot\n    on: b\n",
    )
    scenario = load_scenario(path)
    assert [s.on for s in scenario.steps] == [None, "b"]
    assert list(scenario.device_settings()) == ["a", "b"]
    assert scenario.device == {"device_id": "Teddy-ESP32-00A1"}  # the first device's
    assert MULTI_DEVICE in scenario.needs()
    assert "on b at" in scenario.steps[1].label()


def test_an_unknown_device_is_a_load_error_naming_the_declared_ones(write: WriteFile) -> None:
    path = write(
        "x.yaml", HEAD + TWO + "steps:\n  - expect: boot\n  - console: status\n    on: c\n"
    )
    assert problems(path) == [f"on: 'c' at {path}:10: no such device; declared: a, b"]


def test_on_in_a_one_device_scenario_says_how_to_declare_several(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - expect: boot\n    on: b\n")
    [message] = problems(path)
    assert message.startswith(f"on: 'b' at {path}:6: no such device; declared: {DEFAULT_DEVICE}")
    assert "declare several under `devices:`" in message
    # The default device answers to its name; one device needs no capability.
    ok = write("y.yaml", HEAD + f"steps:\n  - expect: boot\n    on: {DEFAULT_DEVICE}\n")
    assert MULTI_DEVICE not in load_scenario(ok).needs()


def test_device_and_devices_together_are_refused(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "device: {volume: 5}\n" + TWO + "steps:\n  - expect: boot\n")
    [message] = problems(path)
    assert message.startswith(f"device: and devices: both given at {path}:5; write one")


def test_device_names_and_settings_are_checked_by_the_schema(write: WriteFile) -> None:
    bad_name = write("x.yaml", HEAD + "devices:\n  Toy-A: {}\nsteps:\n  - expect: boot\n")
    assert any("Toy-A" in m for m in problems(bad_name))
    bad_setting = write("y.yaml", HEAD + "devices:\n  a: {volum: 5}\nsteps:\n  - expect: boot\n")
    assert any("volum" in m for m in problems(bad_setting))


def test_an_include_sends_its_steps_to_its_device_once_reported(write: WriteFile) -> None:
    write(
        "common/two.yaml", "version: 1\nsteps:\n  - expect: boot\n  - expect: ws.open\n    on: a\n"
    )
    path = write("x.yaml", HEAD + TWO + "steps:\n  - include: common/two.yaml\n    on: b\n")
    scenario = load_scenario(path)
    assert [s.on for s in scenario.steps] == ["b", "a"]  # a step's own `on:` wins
    bad = write("y.yaml", HEAD + TWO + "steps:\n  - include: common/two.yaml\n    on: z\n")
    assert problems(bad) == [f"on: 'z' at {bad}:9: no such device; declared: a, b"]


def test_every_device_has_its_variables(write: WriteFile) -> None:
    uses = '  - expect: {event: boot, match: {device_id: "${devices.b.device_id}"}}\n'
    load_scenario(write("x.yaml", HEAD + TWO + "steps:\n" + uses))
    load_scenario(
        write("y.yaml", HEAD + TWO + 'steps:\n  - console: "set volume ${device.volume}"\n')
    )
    path = write("z.yaml", HEAD + TWO + "steps:\n" + uses.replace("devices.b", "devices.c"))
    [message] = problems(path)
    assert "unknown variable ${devices.c.device_id}" in message
    assert "devices.a.device_id" in message and "devices.b.device_id" in message


def test_yaml_on_stays_a_key(write: WriteFile) -> None:
    # YAML 1.1 reads a bare `on` as True; as a mapping key it is the word.
    path = write("x.yaml", HEAD + TWO + "steps:\n  - expect: boot\n    on: b\n")
    assert load_scenario(path).steps[0].on == "b"


def test_connections_are_told_apart_by_the_device_id_of_their_requests() -> None:
    def chat(conn: int, device_id: str) -> dict[str, object]:
        return {"kind": "request", "conn": conn, "query_params": {"device_id": device_id}}

    claim = {"kind": "request", "conn": 3, "body": {"text": '{"device_id": "teddy-esp32-00b2"}'}}
    probe = {**chat(4, "Teddy-ESP32-00A1"), "headers": [["X-Teddy-Probe", "p1"]]}
    records = [chat(1, "Teddy-ESP32-00A1"), chat(2, "Teddy-ESP32-00B2"), claim, probe]
    owners = connection_owners(records, {"a": "Teddy-ESP32-00A1", "b": "Teddy-ESP32-00B2"})
    assert owners == {"a": [1], "b": [2, 3]}  # case-insensitive (SPEC §1.3); no probe
    shared = connection_owners(records, {"a": "Teddy-ESP32-00A1", "b": "teddy-esp32-00a1"})
    assert shared == {"a": [], "b": []}  # one id on two devices: not guessed
