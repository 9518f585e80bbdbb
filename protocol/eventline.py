"""Machine-readable device event lines printed beside free-text logs.

Owns SPEC §8.1: `@teddy <uptime_ms> <event> <json-object>`, formatting, parsing and
checking a line against the SPEC §8.2 catalogue of the device model
(`protocol.device_model.EVENT_FIELDS`: names, member types, closed values). Every target
(emulator, firmware on host, real board, Wokwi) prints the same lines, so one scenario
can assert on all of them. The JSON is compact with keys in insertion order and raw
UTF-8 (as cJSON_PrintUnformatted writes it); consumers split lines on "\\n" only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from protocol._fields import compact_dumps, strict_loads
from protocol.constants import EVENT_PREFIX
from protocol.device_model import (
    COMMAND_SPECS,
    EVENT_FIELDS,
    VOCABULARIES,
    EventFieldSpec,
    EventType,
)
from protocol.errors import EventLineError

EVENT_LINE_RE: Final = re.compile(
    r"@teddy (\d+) ([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*) (\{.*\})", re.ASCII
)
EVENT_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*", re.ASCII)

# SPEC §8.2 catalogue: event name -> members it must carry, in order (more are allowed).
EVENT_CATALOGUE: Final[dict[str, tuple[str, ...]]] = {
    name: tuple(f.name for f in fields if f.required) for name, fields in EVENT_FIELDS.items()
}
_TYPE_NAMES: Final[dict[EventType, str]] = {
    "str": "a string",
    "int": "an integer",
    "bool": "a boolean",
    "str_list": "an array of strings",
    "setting_value": "an integer or a string",
}


@dataclass(frozen=True)
class Event:
    """One parsed event line."""

    uptime_ms: int
    name: str
    data: dict[str, object] = field(default_factory=dict)

    def to_line(self) -> str:
        """The line as a target prints it (without the newline)."""
        return format_event(uptime_ms=self.uptime_ms, name=self.name, data=self.data)


def format_event(*, uptime_ms: int, name: str, data: Mapping[str, object]) -> str:
    """Format an event line; raises EventLineError for a bad name or uptime."""
    if isinstance(uptime_ms, bool) or not isinstance(uptime_ms, int) or uptime_ms < 0:
        raise EventLineError(f"uptime_ms must be a non-negative integer, got {uptime_ms!r}")
    if not EVENT_NAME_RE.fullmatch(name):
        raise EventLineError(f"bad event name {name!r}")
    try:
        payload = compact_dumps(dict(data))
    except (TypeError, ValueError) as exc:
        raise EventLineError(f"event data is not JSON: {exc}") from None
    return f"{EVENT_PREFIX}{uptime_ms} {name} {payload}"


def is_event_line(line: str) -> bool:
    """True when the line claims to be an event line (starts with "@teddy ")."""
    return line.startswith(EVENT_PREFIX)


def parse_event_line(line: str) -> Event | None:
    """Parse one console line.

    Returns None for free text, an Event for a valid event line, and raises
    EventLineError for a line that starts with "@teddy " but is malformed: a
    harness must never silently skip an event it was meant to see.
    """
    line = line.rstrip("\r\n")
    if not is_event_line(line):
        return None
    match = EVENT_LINE_RE.fullmatch(line)
    if match is None:
        raise EventLineError(f"malformed event line: {line!r}")
    uptime, name, payload = match.groups()
    try:
        data = strict_loads(payload)
    except ValueError as exc:
        raise EventLineError(f"event {name}: bad JSON ({exc})") from None
    if not isinstance(data, dict):  # pragma: no cover - the regex demands {...}
        raise EventLineError(f"event {name}: data is not an object")
    return Event(int(uptime), name, data)


def missing_fields(event: Event) -> list[str]:
    """Catalogue fields the event lacks (empty for unknown events)."""
    return [key for key in EVENT_CATALOGUE.get(event.name, ()) if key not in event.data]


def _has_type(value: object, kind: EventType) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str_list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _field_problem(spec: EventFieldSpec, value: object) -> str | None:
    if not _has_type(value, spec.type):
        return f"{spec.name} must be {_TYPE_NAMES[spec.type]}, got {value!r}"
    if spec.values is not None and value not in VOCABULARIES[spec.values]:
        allowed = ", ".join(VOCABULARIES[spec.values])
        return f"{spec.name} must be one of {allowed} ({spec.values}), got {value!r}"
    return None


def _specs(event: Event) -> tuple[EventFieldSpec, ...]:
    """The catalogue's members, plus (type-checked when present) a `cmd.ok`'s reply members."""
    specs = EVENT_FIELDS[event.name]  # type: ignore[index]  # the caller checked the name
    command = event.data.get("cmd")
    if event.name == "cmd.ok" and command in COMMAND_SPECS:
        reply = COMMAND_SPECS[command].reply
        specs += tuple(dataclasses.replace(spec, required=False) for spec in reply)
    return specs


def problems(event: Event) -> list[str]:
    """Everything wrong with `event` against the device model (empty when it is valid)."""
    if event.name not in EVENT_FIELDS:
        known = ", ".join(sorted(EVENT_FIELDS))
        return [f"unknown event {event.name!r}; known: {known}"]
    specs = _specs(event)
    missing = [s.name for s in specs if s.required and s.name not in event.data]
    found = [f"lacks {', '.join(missing)}"] if missing else []
    for spec in specs:
        if spec.name in event.data:
            problem = _field_problem(spec, event.data[spec.name])
            if problem is not None:
                found.append(problem)
    return found


def validate_event(event: Event) -> None:
    """Raise EventLineError unless the event matches the SPEC §8.2 catalogue.

    Checked: the name is known, every required member is there, and every member the
    catalogue lists (present ones) has its type and, for closed lists such as `state`'s
    `from`/`to`, one of the allowed values. The SPEC §9.3 reply members of a `cmd.ok`
    (`set` `value`, `status` `wifi`, ...) are type-checked when present. Further members
    are allowed.
    """
    found = problems(event)
    if found and found[0].startswith("unknown event"):
        raise EventLineError(found[0])
    if found:
        raise EventLineError(f"event {event.name}: {'; '.join(found)}")
