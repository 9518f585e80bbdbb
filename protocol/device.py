"""Small rules over the device model that more than one program needs.

Owns the mapping from the harness's spelling of a reset reason to SPEC §8.2's
(`reset_reason`), the check of a device setting's value against the model (type, range,
choices, pattern: `setting_problem`, used by teddy-emulator's command line and both
harness targets) and the JSON Schema of a scenario's `device:` mapping derived from the
same tables (`device_settings_schema`).
"""

from __future__ import annotations

import re
from typing import Any

from protocol.device_model import (
    CRASH_REASONS,
    RESET_REASONS,
    SETTINGS,
    TIMING,
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
    """JSON Schema of a scenario's `device:` mapping: every setting plus `timing`."""
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
    return {"type": "object", "properties": properties, "additionalProperties": False}
