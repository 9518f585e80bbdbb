"""JSON Schema (draft 2020-12) of scenario format v1 and of included step files.

The schema is the single list of valid keys, step names, event names, capabilities
and enums; `teddy-hil schema` prints it for editors (YAML language servers accept a
JSON Schema). The step part is generated from the registered step kinds
(`hil.steps.registry`), so it is built on each call: `scenario_schema()`,
`include_schema()`. Rules a schema expresses badly ("exactly one of phrase/clip",
regexes that must compile) are checked by each kind's builder with the same
file:line errors.
"""

from __future__ import annotations

from typing import Final

from hil.rules.forbid import FORBID
from hil.rules.invariants import INVARIANT_IDS
from hil.scenario.fragments import CAPABILITIES, CLOCK, DURATION, NONNEG, STR, Schema, obj
from hil.scenario.model import DEVICE_NAME_PATTERN, PANICS
from hil.scenario.release import RELEASE
from hil.scenario.values import VAR_NAME_PATTERN
from hil.steps.registry import all_kinds
from protocol.config_doc import CONFIG_KEYS
from protocol.device import device_settings_schema
from protocol.device_model import SETTINGS
from protocol.server_quirks import QUIRK_NAMES

# The `device:` mapping is the device model's settings plus `timing` (protocol.device_model).
DEVICE_KEYS: Final = (*(setting.name for setting in SETTINGS), "timing")
# Built-in invariants a scenario switches off, each with the reason it must (hil.rules).
EXEMPT: Final[Schema] = {
    "type": "object",
    "propertyNames": {"enum": list(INVARIANT_IDS)},
    "additionalProperties": {"type": "string", "pattern": "\\S"},
    "x-hint": "invariant id -> why this scenario breaks it on purpose",
}
STEP_COMMON_KEYS: Final = ("timeout", "requires", "name", "clock", "on")

SERVER: Final[Schema] = obj(
    {
        "profile": {"enum": ["development", "production"]},
        "access_ttl": DURATION,
        "refresh_ttl": DURATION,
        "heartbeat_interval": DURATION,
        "keep_utterance_audio": {"type": "boolean"},
        "chat_path": {"type": "string", "pattern": "^/[A-Za-z0-9/._~-]*$"},
        "rate_limits": obj(
            {"per_device": NONNEG, "per_ip": NONNEG, "window": DURATION},
        ),
        "quirks": {
            "type": "array",
            "items": {"enum": list(QUIRK_NAMES)},
            "uniqueItems": True,
            "x-hint": "defects of the original server to put back (SPEC Appendix B)",
        },
    }
)

GIVEN: Final[Schema] = obj(
    {
        "devices": {
            "type": "array",
            "items": obj(
                {"device_id": STR, "oob_secret": STR, "enabled": {"type": "boolean"}},
                required=("device_id",),
            ),
        },
        "children": {
            "type": "array",
            "items": obj(
                {
                    "child_id": STR,
                    "name": STR,
                    "age": {"type": "integer"},
                    "language": STR,
                    "consent": {"type": "boolean"},
                },
                required=("child_id", "age"),
            ),
        },
        "config": {"type": "object", "propertyNames": {"enum": list(CONFIG_KEYS)}},
        "releases": {"type": "array", "items": RELEASE},
    }
)

DEVICE: Final[Schema] = device_settings_schema()
DEVICE_NAME: Final[Schema] = {
    "type": "string",
    "pattern": f"^{DEVICE_NAME_PATTERN}$",
    "x-hint": "a device named under `devices:` (lower case: a, b, toy_2)",
}
# Several devices in one scenario: name -> the same settings as `device:` (first = default).
DEVICES: Final[Schema] = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": DEVICE_NAME,
    "additionalProperties": DEVICE,
    "x-hint": "device name -> its settings (as device:); steps say `on: <name>`",
}


def step_schema() -> Schema:
    """One step: exactly one registered kind's key plus the common keys."""
    kinds = all_kinds()
    return {
        "type": "object",
        "propertyNames": {"enum": [*(k.name for k in kinds), *STEP_COMMON_KEYS]},
        "properties": {
            **{k.name: k.schema for k in kinds},
            "timeout": DURATION,
            "requires": CAPABILITIES,
            "name": STR,
            "clock": CLOCK,
            "on": DEVICE_NAME,
        },
    }


SPEC_SECTION_PATTERN: Final = r"^§([1-9][0-9]?(\.[1-9][0-9]?)?|[A-C])$"


def _steps() -> Schema:
    return {"type": "array", "minItems": 1, "items": step_schema()}


def scenario_schema() -> Schema:
    """The schema of a scenario file (what `teddy-hil schema` prints)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://teddy-hil.invalid/schema/scenario-v1.json",
        "title": "teddy-hil scenario v1",
        **obj(
            {
                "version": {"const": 1},
                "name": {"type": "string", "minLength": 1},
                "description": STR,
                "tags": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
                },
                "requires": CAPABILITIES,
                # The SPEC sections the scenario holds a server or device to (conformance).
                "spec": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": SPEC_SECTION_PATTERN},
                },
                "timeout": DURATION,
                "clock": CLOCK,
                "strict_events": {"type": "boolean"},
                "panic": {
                    "enum": list(PANICS),
                    "x-hint": "expected: the scenario provokes a device panic on purpose",
                },
                "forbid": FORBID,
                "exempt": EXEMPT,
                "server": SERVER,
                "given": GIVEN,
                "device": DEVICE,
                "devices": DEVICES,
                "vars": {"type": "object", "propertyNames": {"pattern": f"^{VAR_NAME_PATTERN}$"}},
                "steps": _steps(),
            },
            required=("version", "name", "description", "steps"),
        ),
    }


def include_schema() -> Schema:
    """The schema of a step group file (`scenarios/common/*.yaml`)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "teddy-hil step group v1 (scenarios/common/*.yaml)",
        **obj(
            {
                "version": {"const": 1},
                "description": STR,
                "params": {
                    "type": "object",
                    "propertyNames": {"pattern": f"^{VAR_NAME_PATTERN}$"},
                },
                "steps": _steps(),
            },
            required=("version", "steps"),
        ),
    }
