"""What step builders share: where a value was written (`At`), and the checks they repeat.

A builder gets a value the JSON Schema has already accepted and checks what the schema
cannot express (regexes that compile, exactly one of two keys). It raises
`InvalidStepError`; `hil.scenario.build` turns that into a Problem at the file and line
of the offending key, like schema problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hil.errors import HilError
from hil.scenario.model import SOURCE_DEVICE, SOURCE_SERVER, EventPattern
from hil.scenario.values import placeholder_text
from hil.scenario.yamldoc import DataPath, YamlDoc


class InvalidStepError(HilError):
    """Raised inside a builder; turned into a Problem at the step's key (+ `sub`)."""

    def __init__(self, message: str, *, sub: DataPath = ()) -> None:
        super().__init__(message)
        self.sub = sub


@dataclass(frozen=True)
class At:
    """Where the value being built lives (for messages)."""

    doc: YamlDoc
    path: DataPath

    def where(self, *sub: object) -> str:
        return self.doc.where((*self.path, *sub))


def check_regex(pattern: str, at: At, *sub: object) -> None:
    """Raise if `pattern` (with `${var}`s stood in for) is not a valid regex."""
    try:
        re.compile(placeholder_text(pattern))
    except re.error as exc:
        raise InvalidStepError(
            f"bad regular expression {pattern!r} at {at.where(*sub)}: {exc}", sub=sub
        ) from None


def match_values(value: object, at: At, *sub: object) -> dict[str, object]:
    """A `match:` mapping whose string values (regexes) all compile."""
    match = dict(value) if isinstance(value, dict) else {}
    for key, expected in match.items():
        if isinstance(expected, str):
            check_regex(expected, at, *sub, key)
    return match


def event_pattern(source: str, event: str, body: dict[str, Any], at: At) -> EventPattern:
    """The pattern `event` + `body["match"]` on the device's or the server's stream."""
    return EventPattern(source, event, match_values(body.get("match"), at, "match"))


def one_source(body: dict[str, Any], at: At, *, step: str) -> tuple[str, str] | None:
    """(source, event) of a body taking `event` or `server_event`; None when it has neither."""
    given = [k for k in ("event", "server_event") if k in body]
    if len(given) > 1:
        raise InvalidStepError(f"{step} at {at.where()}: give event or server_event, not both")
    if not given:
        return None
    return (SOURCE_DEVICE if given[0] == "event" else SOURCE_SERVER), body[given[0]]
