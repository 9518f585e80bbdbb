"""JSON Schema (draft 2020-12) of scenario format v1 and of included step files.

The schema is the single list of valid keys, step names, event names, capabilities
and enums; `teddy-hil schema` prints it for editors (YAML language servers accept a
JSON Schema). Rules a schema expresses badly ("exactly one of phrase/clip", regexes
that must compile) are checked in `hil.scenario.build` with the same file:line errors.
"""

from __future__ import annotations

from typing import Any, Final

from hil.scenario.values import DURATION_PATTERN, VAR_NAME_PATTERN
from hil.targets.base import ALL_CAPABILITIES
from protocol.config_doc import CONFIG_KEYS
from protocol.console import COMMANDS
from protocol.eventline import EVENT_CATALOGUE
from protocol.image import CHIP_LAYOUTS

Schema = dict[str, Any]

# Server events published on `state.events` (server/events.py; the lead's contract).
SERVER_EVENT_NAMES: Final = (
    "claim.ok",
    "claim.fail",
    "refresh.ok",
    "refresh.fail",
    "config.served",
    "manifest.served",
    "image.served",
    "ws.refused",
    "ws.open",
    "ws.close",
    "chat.utterance",
    "chat.text",
    "chat.error",
    "fault.injected",
)
CHAT_FAULT_KINDS: Final = (
    "invalid_json",
    "oversize_frame",
    "unknown_type",
    "binary_frame",
    "drop_connection",
)
FAULT_KINDS: Final = (*CHAT_FAULT_KINDS, "http_status", "cut_download")
DEVICE_KEYS: Final = (
    "device_id",
    "child_id",
    "child_name",
    "child_age",
    "oob_secret",
    "firmware_version",
    "chip",
    "secure_version",
    "pacing",
    "timing",
    "seed",
    "microphone",
    "speaker",
)
STEP_COMMON_KEYS: Final = ("timeout", "requires", "name", "clock")

DURATION: Final[Schema] = {
    "type": ["string", "number"],
    "pattern": DURATION_PATTERN,
    "minimum": 0,
    "x-hint": "a duration such as 500ms, 10s, 1.5s or 2m",
}
_STR: Final[Schema] = {"type": "string"}
_NONNEG: Final[Schema] = {"type": "integer", "minimum": 0}
_CHIP: Final[Schema] = {"enum": sorted(CHIP_LAYOUTS)}
_DEVICE_EVENT: Final[Schema] = {"enum": sorted(EVENT_CATALOGUE)}
_SERVER_EVENT: Final[Schema] = {"enum": list(SERVER_EVENT_NAMES)}
_MATCH: Final[Schema] = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}
_CAPTURE: Final[Schema] = {
    "type": "object",
    "propertyNames": {"pattern": f"^{VAR_NAME_PATTERN}$"},
    "additionalProperties": _STR,
}
_CAPABILITIES: Final[Schema] = {"type": "array", "items": {"enum": list(ALL_CAPABILITIES)}}
CLOCK: Final[Schema] = {
    "enum": ["wall", "simulated"],
    "x-hint": "what timeouts count: wall (default) or simulated (a simulator's clock, e.g. Wokwi)",
}


def _obj(properties: Schema, *, required: tuple[str, ...] = (), null: bool = False) -> Schema:
    schema: Schema = {
        "type": ["object", "null"] if null else "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _event_wait(event: Schema) -> Schema:
    return {
        "type": ["string", "object"],
        "properties": {"event": event, "match": _MATCH, "capture": _CAPTURE, "timeout": DURATION},
        "required": ["event"],
        "additionalProperties": False,
    }


RELEASE: Final[Schema] = _obj(
    {
        "version": _STR,
        "chip": _CHIP,
        "secure_version": _NONNEG,
        "mandatory": {"type": "boolean"},
        "notes": _STR,
        "behaviour": {"type": "object"},
        "payload_bytes": {"type": "integer", "minimum": 0, "maximum": 4 * 1024 * 1024},
        "break": _obj(
            {
                "sha256_mismatch": {"type": "boolean"},
                "truncate": _NONNEG,
                "random_bytes": {"type": "integer", "minimum": 1},
                "chip_id": {"type": ["string", "integer"]},
                "flip_byte": {"type": "integer"},
                "manifest_version": _STR,
                "manifest_secure_version": _NONNEG,
                "manifest_size": _NONNEG,
            }
        ),
    },
    required=("version",),
)

STEP_SCHEMAS: Final[dict[str, Schema]] = {
    "console": {
        "type": ["string", "object"],
        "properties": {
            "line": _STR,
            "reply": {"enum": ["ok", "error", "any", "none"]},
            "timeout": DURATION,
        },
        "required": ["line"],
        "additionalProperties": False,
    },
    "talk": {
        "type": ["string", "object"],
        "properties": {"phrase": _STR, "clip": _STR, "timeout": DURATION},
        "additionalProperties": False,
    },
    "button": {"enum": ["press", "release"]},
    "expect": _event_wait(_DEVICE_EVENT),
    "expect_line": {
        "type": ["string", "object"],
        "properties": {"pattern": _STR, "timeout": DURATION},
        "required": ["pattern"],
        "additionalProperties": False,
    },
    "expect_server": _event_wait(_SERVER_EVENT),
    "expect_reply": _obj(
        {"text": _STR, "transcript": _STR, "capture": _CAPTURE, "timeout": DURATION}, null=True
    ),
    "expect_absent": _obj(
        {
            "event": _DEVICE_EVENT,
            "server_event": _SERVER_EVENT,
            "match": _MATCH,
            "within": DURATION,
        },
        required=("within",),
    ),
    "publish": RELEASE,
    "set_config": {"type": "object", "propertyNames": {"enum": list(CONFIG_KEYS)}},
    "power_cut": _obj({}, null=True),
    "reboot": _obj({"reason": _STR}, null=True),
    "server_fault": _obj(
        {
            "kind": {"enum": list(FAULT_KINDS)},
            "count": {"type": "integer", "minimum": 1},
            "path": {"type": "string", "pattern": "^/"},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "after_bytes": _NONNEG,
        },
        required=("kind",),
    ),
    "wait": _obj(
        {
            "seconds": DURATION,
            "event": _DEVICE_EVENT,
            "server_event": _SERVER_EVENT,
            "match": _MATCH,
            "capture": _CAPTURE,
            "timeout": DURATION,
        }
    ),
    "include": {
        "type": ["string", "object"],
        "properties": {"file": _STR, "with": {"type": "object"}},
        "required": ["file"],
        "additionalProperties": False,
    },
}
STEP_KINDS: Final = tuple(STEP_SCHEMAS)

STEP: Final[Schema] = {
    "type": "object",
    "propertyNames": {"enum": [*STEP_KINDS, *STEP_COMMON_KEYS]},
    "properties": {
        **STEP_SCHEMAS,
        "timeout": DURATION,
        "requires": _CAPABILITIES,
        "name": _STR,
        "clock": CLOCK,
    },
}
_STEPS: Final[Schema] = {"type": "array", "minItems": 1, "items": STEP}

SERVER: Final[Schema] = _obj(
    {
        "profile": {"enum": ["development", "production"]},
        "access_ttl": DURATION,
        "refresh_ttl": DURATION,
        "heartbeat_interval": DURATION,
        "keep_utterance_audio": {"type": "boolean"},
        "rate_limits": _obj(
            {"per_device": _NONNEG, "per_ip": _NONNEG, "window": DURATION},
        ),
    }
)

GIVEN: Final[Schema] = _obj(
    {
        "devices": {
            "type": "array",
            "items": _obj(
                {"device_id": _STR, "oob_secret": _STR, "enabled": {"type": "boolean"}},
                required=("device_id",),
            ),
        },
        "children": {
            "type": "array",
            "items": _obj(
                {
                    "child_id": _STR,
                    "name": _STR,
                    "age": {"type": "integer"},
                    "language": _STR,
                    "consent": {"type": "boolean"},
                },
                required=("child_id", "age"),
            ),
        },
        "config": {"type": "object", "propertyNames": {"enum": list(CONFIG_KEYS)}},
        "releases": {"type": "array", "items": RELEASE},
    }
)

DEVICE: Final[Schema] = _obj(
    {
        "device_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
        "child_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        "child_name": _STR,
        "child_age": {"type": "integer"},
        "oob_secret": {"type": ["string", "null"], "pattern": "^[0-9A-Fa-f]{64}$"},
        "firmware_version": _STR,
        "chip": _CHIP,
        "secure_version": _NONNEG,
        "pacing": {"enum": ["fast", "realtime"]},
        "timing": {"type": "object"},
        "seed": {"type": "integer"},
        "microphone": _STR,
        "speaker": _STR,
    }
)

SCENARIO_SCHEMA: Final[Schema] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://teddy-hil.invalid/schema/scenario-v1.json",
    "title": "teddy-hil scenario v1",
    **_obj(
        {
            "version": {"const": 1},
            "name": {"type": "string", "minLength": 1},
            "description": _STR,
            "tags": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}},
            "requires": _CAPABILITIES,
            "timeout": DURATION,
            "clock": CLOCK,
            "strict_events": {"type": "boolean"},
            "server": SERVER,
            "given": GIVEN,
            "device": DEVICE,
            "vars": {"type": "object", "propertyNames": {"pattern": f"^{VAR_NAME_PATTERN}$"}},
            "steps": _STEPS,
        },
        required=("version", "name", "description", "steps"),
    ),
}

INCLUDE_SCHEMA: Final[Schema] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "teddy-hil step group v1 (scenarios/common/*.yaml)",
    **_obj(
        {
            "version": {"const": 1},
            "description": _STR,
            "params": {"type": "object", "propertyNames": {"pattern": f"^{VAR_NAME_PATTERN}$"}},
            "steps": _STEPS,
        },
        required=("version", "steps"),
    ),
}

CONSOLE_COMMANDS: Final = COMMANDS
