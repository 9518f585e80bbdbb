"""Small rules over the device model that more than one program needs.

Owns the mapping from the harness's spelling of a reset reason to SPEC §8.2's
(`reset_reason`), the check of a device setting's value against the model (type, range,
choices, pattern: `setting_problem`, used by teddy-emulator's command line and both
harness targets), the device quirks of SPEC Appendix C as a command line and a scenario
spell them (`parse_quirk`, `quirk_flag`: `NAME[=VALUE]`) and the JSON Schema of a
scenario's `device:` mapping derived from the same tables (`device_settings_schema`).
"""

from __future__ import annotations

import re
from typing import Any

from protocol.device_model import (
    CRASH_REASONS,
    QUIRK_SPECS,
    QUIRKS,
    RESET_REASONS,
    SETTINGS,
    TIMING,
    Quirk,
    ResetReason,
    SettingSpec,
)

_BY_NAME = {spec.name: spec for spec in SETTINGS}


def reset_reason(reason: str) -> ResetReason:
    """`power_on` (harness spelling) -> `poweron` (SPEC §8.2); unknown -> `unknown`."""
    for candidate in (reason.replace("_", ""), reason):
        if candidate in RESET_REASONS:
            return candidate
    return "unknown"


def is_crash(reason: str) -> bool:
    """True for the reset reasons that are crashes (they name a SPEC §5.5 rollback)."""
    return reason in CRASH_REASONS


def setting_spec(name: str) -> SettingSpec:
    """The model's spec of device setting `name`; KeyError lists the valid names."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no device setting {name!r}; settings: {', '.join(_BY_NAME)}") from None


def setting_problem(spec: SettingSpec, value: object) -> str | None:
    """What is wrong with `value` for the setting (None when it is valid)."""
    if value is None and spec.type in ("optional_str", "optional_int"):
        return None
    if spec.type in ("int", "optional_int"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{spec.name} must be an integer, got {value!r}"
        if (spec.min is not None and value < spec.min) or (
            spec.max is not None and value > spec.max
        ):
            return f"{spec.name} must be {spec.min}..{spec.max}, got {value}"
        return None
    if not isinstance(value, str):
        return f"{spec.name} must be a string, got {value!r}"
    if spec.choices and value not in spec.choices:
        return f"{spec.name} must be one of {', '.join(spec.choices)}, got {value!r}"
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        return f"{spec.name} must match {spec.pattern}, got {value!r}"
    return None


def parse_quirk(text: str) -> tuple[Quirk, str]:
    """`NAME` or `NAME=VALUE` (SPEC Appendix C) -> (quirk, value or ""); ValueError says why."""
    name, sep, value = text.partition("=")
    quirk = next((q for q in QUIRKS if q == name), None)
    if quirk is None:
        raise ValueError(f"unknown quirk {name!r}; quirks: {', '.join(QUIRKS)}")
    problem = quirk_problem(quirk, value if sep else None)
    if problem is not None:
        raise ValueError(problem)
    return quirk, value


def quirk_problem(quirk: Quirk, value: str | None) -> str | None:
    """What is wrong with `value` (None: none given) for the quirk, None when it fits."""
    wants = QUIRK_SPECS[quirk].value
    if wants is None and value is not None:
        return f"quirk {quirk} takes no value, got {value!r}"
    if wants is not None and (value is None or not value or any(c.isspace() for c in value)):
        return f"quirk {quirk} needs a value: {quirk}={wants} (one word), got {value!r}"
    if value is not None and quirk_int(quirk, value) is None and QUIRK_SPECS[quirk].min is not None:
        return f"{quirk_range_message(quirk)}, got {value!r}"
    return None


def quirk_int(quirk: Quirk, value: str) -> int | None:
    """The integer value of an integer quirk (`playback_rate`, ...), None when out of range.

    Decimal digits only (an optional minus), as both cores' console parsers read it.
    """
    spec = QUIRK_SPECS[quirk]
    if spec.min is None or spec.max is None or not re.fullmatch(r"-?[0-9]{1,12}", value):
        return None
    number = int(value)
    return number if spec.min <= number <= spec.max else None


def quirk_range_message(quirk: Quirk) -> str:
    """The refusal of an integer quirk's bad value (the console's `bad_value` message)."""
    spec = QUIRK_SPECS[quirk]
    return f"quirk on {quirk}: {spec.value} must be an integer {spec.min}..{spec.max}"


def quirks_from(items: object, *, where: str = "device.quirks") -> tuple[tuple[Quirk, str], ...]:
    """A scenario's `quirks:` list (`name` or `{name: value}`) -> (quirk, value) pairs."""
    if not isinstance(items, list | tuple):
        raise ValueError(f"{where} must be a list of quirk names or {{name: value}} mappings")
    out: list[tuple[Quirk, str]] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(parse_quirk(item))
        elif isinstance(item, dict) and len(item) == 1:
            ((name, value),) = item.items()
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # an integer quirk (playback_rate: 22050)
            if not isinstance(value, str):
                raise ValueError(f"{where}[{i}]: the value of {name} must be a string")
            out.append(parse_quirk(f"{name}={value}"))
        else:
            want = "a quirk name or one {name: value}"
            raise ValueError(f"{where}[{i}]: want {want}, got {item!r}")
    return tuple(out)


def quirk_flag(quirk: Quirk, value: str) -> str:
    """The `--quirk` argument of teddy-emulator / teddy-fw-host for one quirk."""
    return f"{quirk}={value}" if QUIRK_SPECS[quirk].value is not None else quirk


def quirks_schema() -> dict[str, Any]:
    """JSON Schema of `device: {quirks: [...]}`: names, or {name: value} for a valued one."""
    plain = [q for q in QUIRKS if QUIRK_SPECS[q].value is None]
    valued = {
        q: (
            {"type": "string", "minLength": 1, "pattern": "^\\S+$", "description": spec.doc}
            if spec.min is None
            else {
                "type": "integer",
                "minimum": spec.min,
                "maximum": spec.max,
                "description": spec.doc,
            }
        )
        for q, spec in QUIRK_SPECS.items()
        if spec.value is not None
    }
    # if/then/else rather than oneOf: a bad entry is then refused with the valid names.
    return {
        "type": "array",
        "description": "device quirks (SPEC Appendix C) on from boot",
        "items": {
            "if": {"type": "string"},
            "then": {"enum": plain},
            "else": {
                "type": "object",
                "properties": valued,
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
            },
        },
    }


def _setting_schema(spec: SettingSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": spec.help}
    if spec.type in ("int", "optional_int"):
        schema["type"] = "integer" if spec.type == "int" else ["integer", "null"]
        if spec.min is not None:
            schema["minimum"] = spec.min
        if spec.max is not None:
            schema["maximum"] = spec.max
    else:
        schema["type"] = ["string", "null"] if spec.type == "optional_str" else "string"
    if spec.choices:
        schema["enum"] = list(spec.choices)
    if spec.pattern is not None:
        schema["pattern"] = f"^(?:{spec.pattern})$"
    return schema


def device_settings_schema() -> dict[str, Any]:
    """JSON Schema of a scenario's `device:` mapping: every setting, `timing`, `quirks`."""
    kinds = {"ms": "integer", "count": "integer", "ratio": "number"}
    timing: dict[str, Any] = {
        t.name: {
            "type": kinds.get(t.kind, ["integer", "null"]),  # ms_or_server: null = the server's
            "minimum": 0,  # a minimum only applies to numbers: null stays valid
            "description": f"SPEC {t.spec}: {t.doc}",
        }
        for t in TIMING
    }
    properties = {spec.name: _setting_schema(spec) for spec in SETTINGS}
    properties["timing"] = {
        "type": "object",
        "properties": timing,
        "additionalProperties": False,
    }
    properties["quirks"] = quirks_schema()
    return {"type": "object", "properties": properties, "additionalProperties": False}
