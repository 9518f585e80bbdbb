"""JSON Schema pieces the scenario format is written with (draft 2020-12).

Shared by the document schema (`hil.scenario.schema`) and every step kind's schema
fragment (`hil/steps/kinds/`), so a duration, a `match:` or an event name is spelt the
same everywhere. Closed vocabularies come from where they are defined: device events
from protocol.eventline (SPEC §8.2), server events from `hil.steps.server_side`,
capabilities from `hil.targets.base`, chips from protocol.image.
"""

from __future__ import annotations

from typing import Any, Final

from hil.scenario.model import CLOCKS
from hil.scenario.values import DURATION_PATTERN, VAR_NAME_PATTERN
from hil.steps.server_side import SERVER_EVENT_NAMES
from hil.targets.base import ALL_CAPABILITIES
from protocol.device_model import EVENT_NAMES
from protocol.image import CHIP_LAYOUTS

Schema = dict[str, Any]

DURATION: Final[Schema] = {
    "type": ["string", "number"],
    "pattern": DURATION_PATTERN,
    "minimum": 0,
    "x-hint": "a duration such as 500ms, 10s, 1.5s or 2m",
}
STR: Final[Schema] = {"type": "string"}
NONNEG: Final[Schema] = {"type": "integer", "minimum": 0}
CHIP: Final[Schema] = {"enum": sorted(CHIP_LAYOUTS)}
DEVICE_EVENT: Final[Schema] = {"enum": sorted(EVENT_NAMES)}
SERVER_EVENT: Final[Schema] = {"enum": list(SERVER_EVENT_NAMES)}
MATCH: Final[Schema] = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}
CAPTURE: Final[Schema] = {
    "type": "object",
    "propertyNames": {"pattern": f"^{VAR_NAME_PATTERN}$"},
    "additionalProperties": STR,
}
CAPABILITIES: Final[Schema] = {"type": "array", "items": {"enum": list(ALL_CAPABILITIES)}}
CLOCK: Final[Schema] = {
    "enum": list(CLOCKS),
    "x-hint": "what timeouts count: wall (default) or simulated (a simulator's clock, e.g. Wokwi)",
}


def obj(properties: Schema, *, required: tuple[str, ...] = (), null: bool = False) -> Schema:
    """A mapping with exactly these keys (`null`: an empty value is allowed too)."""
    schema: Schema = {
        "type": ["object", "null"] if null else "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def event_wait(event: Schema) -> Schema:
    """`<event>` or `{event, match, capture, timeout}` (expect, expect_server)."""
    return {
        "type": ["string", "object"],
        "properties": {"event": event, "match": MATCH, "capture": CAPTURE, "timeout": DURATION},
        "required": ["event"],
        "additionalProperties": False,
    }


def line_or(key: str, properties: Schema) -> Schema:
    """A string standing for `{key: <string>}`, or the mapping with `properties`."""
    return {
        "type": ["string", "object"],
        "properties": properties,
        "required": [key],
        "additionalProperties": False,
    }
