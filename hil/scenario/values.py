"""Small value types of the scenario format: durations and `${var}` templates.

Durations are written `500ms`, `10s`, `1.5s`, `2m` (or a bare number of seconds).
Templates substitute captured values, scenario `vars`, `device.<setting>` and
`server.<url>` at run time; `$$` writes a literal `$`. Inside regular expressions a
substituted value matches literally (it is escaped), so `${version}` = `1.0.0` never
matches `1x0y0`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Final

from hil.errors import HilError

DURATION_PATTERN: Final = r"^[0-9]+(\.[0-9]+)?(ms|s|m)$"
_DURATION_RE: Final = re.compile(DURATION_PATTERN)
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0}
# Up to two dots: `device.device_id`, `server.url`, `devices.b.device_id` (a named device).
VAR_NAME_PATTERN: Final = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,2}"
_TEMPLATE_RE: Final = re.compile(r"\$\$|\$\{(" + VAR_NAME_PATTERN + r")\}")
_WHOLE_RE: Final = re.compile(r"\$\{(" + VAR_NAME_PATTERN + r")\}")


class UnknownVariableError(HilError):
    """A `${name}` was used that no capture, `vars` entry or setting defines."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        listed = ", ".join(sorted(known)) or "(none yet)"
        super().__init__(f"unknown variable ${{{name}}}; defined here: {listed}")


def parse_duration(value: object) -> float:
    """Seconds for `10s`, `500ms`, `2m` or a non-negative number; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION_RE.match(value.strip())
        if match:
            number = value.strip()[: -len(match.group(2))]
            return float(number) * _UNIT_SECONDS[match.group(2)]
    raise ValueError(f"{value!r} is not a duration (write e.g. 500ms, 10s, 1.5s, 2m)")


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:g}s"


def as_text(value: object) -> str:
    """How a value reads inside a string: JSON spelling for true/false/null."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def template_names(value: object) -> Iterator[str]:
    """Every `${name}` used anywhere inside `value` (strings, lists, mappings)."""
    if isinstance(value, str):
        for match in _TEMPLATE_RE.finditer(value):
            if match.group(1):
                yield match.group(1)
    elif isinstance(value, list):
        for item in value:
            yield from template_names(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from template_names(item)


def substitute(value: object, variables: Mapping[str, object], *, regex: bool = False) -> object:
    """`value` with every `${name}` replaced; raises UnknownVariableError.

    A string that is exactly one `${name}` (outside a regex) keeps the variable's type,
    so `age: ${age}` compares as an integer. With `regex=True` values are escaped.
    """
    if isinstance(value, str):
        whole = _WHOLE_RE.fullmatch(value)
        if whole and not regex:
            return _lookup(whole.group(1), variables)
        return _TEMPLATE_RE.sub(lambda m: _replace(m, variables, regex=regex), value)
    if isinstance(value, list):
        return [substitute(item, variables, regex=regex) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables, regex=regex) for key, item in value.items()}
    return value


def substitute_text(value: str, variables: Mapping[str, object], *, regex: bool = False) -> str:
    """`substitute` for a string that must stay a string (console lines, patterns)."""
    return _TEMPLATE_RE.sub(lambda m: _replace(m, variables, regex=regex), value)


def placeholder_text(value: str) -> str:
    """`value` with templates replaced by a stand-in (to check regexes and lines at load).

    "0" passes every SPEC §9 argument rule (integers, ids, names, clip names).
    """
    return _TEMPLATE_RE.sub(lambda m: "0" if m.group(1) else "\\$", value)


def _replace(match: re.Match[str], variables: Mapping[str, object], *, regex: bool) -> str:
    name = match.group(1)
    if not name:
        return re.escape("$") if regex else "$"
    text = as_text(_lookup(name, variables))
    return re.escape(text) if regex else text


def _lookup(name: str, variables: Mapping[str, object]) -> object:
    if name not in variables:
        raise UnknownVariableError(name, list(variables))
    return variables[name]


def substitute_some(value: object, names: Mapping[str, object]) -> object:
    """Replace only the `${name}`s in `names` (include parameters); keep the rest as-is."""
    if isinstance(value, str):
        whole = _WHOLE_RE.fullmatch(value)
        if whole and whole.group(1) in names:
            return names[whole.group(1)]

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            return as_text(names[name]) if name in names else match.group(0)

        return _TEMPLATE_RE.sub(one, value)
    if isinstance(value, list):
        return [substitute_some(item, names) for item in value]
    if isinstance(value, dict):
        return {key: substitute_some(item, names) for key, item in value.items()}
    return value
