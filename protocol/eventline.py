"""Machine-readable device event lines printed beside free-text logs.

Owns SPEC §8: `@teddy <uptime_ms> <event> <json-object>`. Every target (emulator,
firmware on host, real board, Wokwi) prints the same lines, so one scenario can
assert on all of them. The JSON is compact with keys in insertion order and raw
UTF-8 (as cJSON_PrintUnformatted writes it); consumers split lines on "\\n" only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from protocol._fields import compact_dumps, strict_loads
from protocol.constants import EVENT_PREFIX
from protocol.errors import EventLineError

EVENT_LINE_RE: Final = re.compile(
    r"@teddy (\d+) ([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*) (\{.*\})", re.ASCII
)
EVENT_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*", re.ASCII)

# SPEC §8 catalogue: event name -> fields it must carry (more are allowed).
EVENT_CATALOGUE: Final[dict[str, tuple[str, ...]]] = {
    "boot": ("fw_version", "slot", "reset_reason", "device_id"),
    "wifi.up": ("ip",),
    "wifi.down": (),
    "config.ok": ("etag", "cached"),
    "config.fail": ("status", "error"),
    "time.synced": ("epoch",),
    "claim.ok": ("device_session_id", "child_id", "age"),
    "claim.fail": ("status", "code", "attempt", "retry_in_ms"),
    "token.refreshed": (),
    "ws.open": ("url",),
    "ws.close": ("code", "reason"),
    "audio.tx.start": ("audio_session_id",),
    "audio.tx.end": ("audio_session_id", "bytes", "chunks"),
    "audio.rx.start": ("audio_session_id",),
    "audio.rx.end": ("audio_session_id", "bytes", "frames", "text"),
    "text.rx": ("text", "transcript"),
    "ota.available": ("version", "size"),
    "ota.none": ("reason",),
    "ota.progress": ("bytes", "total"),
    "ota.verify.fail": ("reason",),
    "ota.applied": ("version", "slot"),
    "ota.rollback": ("from", "to", "reason"),
    "state": ("from", "to"),
    "error": ("code", "message"),
    "cmd.ok": ("cmd",),
    "cmd.error": ("cmd", "reason"),
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


def validate_event(event: Event) -> None:
    """Raise EventLineError unless the event is in the SPEC §8 catalogue with its fields."""
    if event.name not in EVENT_CATALOGUE:
        raise EventLineError(
            f"unknown event {event.name!r}; known: {', '.join(sorted(EVENT_CATALOGUE))}"
        )
    missing = missing_fields(event)
    if missing:
        raise EventLineError(f"event {event.name} lacks {', '.join(missing)}")
