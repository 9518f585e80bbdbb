"""Several devices in one scenario: `devices:`, each step's `on:`, `${devices.<name>.<key>}`.

A scenario writes `device:` (one device, named `dut`: `hil.scenario.model.DEFAULT_DEVICE`)
or `devices: {a: {...}, b: {...}}` (each with the settings `device:` takes), never both.
Steps without `on:` act on the first device; `on: <name>` naming a device the scenario
does not declare is a load error at the `on:` key, listing the declared names. The first
device's settings are `${device.<key>}` as before; every device's are
`${devices.<name>.<key>}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hil.errors import Problem
from hil.scenario import model as m
from hil.scenario.include import RawStep
from hil.scenario.yamldoc import YamlDoc


def declared_devices(
    doc: YamlDoc, data: Mapping[str, Any], problems: list[Problem]
) -> dict[str, dict[str, object]]:
    """`devices:` as name -> settings (empty when the scenario writes `device:` or neither)."""
    devices = data.get("devices")
    if devices is None:
        return {}
    if data.get("device") is not None:
        problems.append(
            doc.problem(
                ("devices",),
                f"device: and devices: both given at {doc.where(('devices',))}; write one"
                " device as `device:` or several as `devices: {a: {...}, b: {...}}`",
            )
        )
    if not isinstance(devices, dict):
        return {}  # the schema has reported it
    return {str(name): dict(value or {}) for name, value in devices.items()}


def device_names(devices: Mapping[str, object]) -> tuple[str, ...]:
    """The names steps may give as `on:` (the default device's when `devices:` is absent)."""
    return tuple(devices) or (m.DEFAULT_DEVICE,)


def on_problems(raw_steps: Iterable[RawStep], names: tuple[str, ...]) -> list[Problem]:
    """Each `on:` naming an undeclared device, once, at the key that says it."""
    problems: list[Problem] = []
    seen: set[tuple[int, object]] = set()  # an include's `on:` is reported once
    for raw in raw_steps:
        on = raw.on()
        if on is None or on.name in names or (id(on.doc), on.path) in seen:
            continue
        seen.add((id(on.doc), on.path))
        hint = ""
        if names == (m.DEFAULT_DEVICE,):
            hint = (
                f" (a scenario with `device:` has one device, {m.DEFAULT_DEVICE!r};"
                " declare several under `devices:`)"
            )
        problems.append(
            on.doc.problem(
                on.path,
                f"on: {on.name!r} at {on.doc.where(on.path)}: no such device; declared:"
                f" {', '.join(names)}{hint}",
            )
        )
    return problems


def device_variables(names: Iterable[str], keys: Iterable[str]) -> set[str]:
    """The variable names the devices' settings define (`device.<key>` is the first's)."""
    keys = tuple(keys)
    known = {f"device.{key}" for key in keys}
    for name in names:
        known |= {f"devices.{name}.{key}" for key in keys}
    return known
