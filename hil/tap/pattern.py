"""`WirePattern`: which wire records (hil.tap.records) a step or a rule is looking for.

A pattern names a record kind (`request`, `response` or `ws`) and criteria, each matched
as `expect` matches event fields (hil.expect): a string is a regular expression that must
match the whole value (`re.fullmatch`, the value spelt as in JSON), anything else must be
equal. Header names are case-insensitive and `null` for a header means "absent"; query
values are the decoded ones; `body` (HTTP, a JSON body) and `match` (WebSocket, the JSON
message; `code`/`reason` of a close frame) take dotted paths (`child_profile.name`).

`mismatches` says in words why a record is not a match (the near misses of a failure
report); `view` is what `capture` paths read (`status`, `headers.etag`, `body.<path>`,
`query.<name>`, or a message field of a frame).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from hil.scenario.values import as_text, substitute
from hil.tap.records import REQUEST, RESPONSE, WS

PATTERN_KINDS: Final = (REQUEST, RESPONSE, WS)
_MISSING: Final = object()


@dataclass(frozen=True)
class WirePattern:
    kind: str  # REQUEST, RESPONSE or WS
    method: str | None = None
    path: str | None = None
    status: object = None  # an int, or a regex such as "2\\d\\d"
    query: Mapping[str, object] = field(default_factory=dict)
    headers: Mapping[str, object] = field(default_factory=dict)  # None = must be absent
    body: Mapping[str, object] = field(default_factory=dict)
    direction: str | None = None  # ws: "up" or "down"
    opcode: str | None = None  # ws: text, binary, ping, pong, close
    type: str | None = None  # ws: the JSON message's `type`
    match: Mapping[str, object] = field(default_factory=dict)  # ws: message fields


def lookup(data: object, path: str) -> object:
    """`data` followed along a dotted path; `_MISSING` where it does not go on."""
    for part in path.split("."):
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _headers(record: Mapping[str, object]) -> dict[str, str]:
    merged: dict[str, str] = {}
    pairs = record.get("headers")
    for pair in pairs if isinstance(pairs, list) else []:
        name, value = str(pair[0]).lower(), str(pair[1])
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def view(record: Mapping[str, object]) -> dict[str, object]:
    """What a pattern and a capture see of `record`."""
    if record.get("kind") == WS:
        fields = record.get("fields")
        message: dict[str, object] = dict(fields) if isinstance(fields, Mapping) else {}
        for key in ("code", "reason", "payload_hex", "text"):
            if key in record:
                message.setdefault(key, record[key])
        return message
    body = record.get("body")
    content: object = None
    if isinstance(body, Mapping):
        content = body.get("json", body.get("text"))
    out = {k: record.get(k) for k in ("method", "target", "path", "status", "reason")}
    out.update(query=record.get("query_params") or {}, headers=_headers(record), body=content)
    return out


def capture_value(record: Mapping[str, object], path: str) -> object:
    """The value `path` names in `view(record)`; KeyError naming what there is."""
    seen = view(record)
    head, _, rest = path.partition(".")
    if head == "headers" and rest:
        path = f"headers.{rest.lower()}"
    value = lookup(seen, path)
    if value is _MISSING:
        raise KeyError(f"no {path!r} in this record (it has: {', '.join(seen) or 'nothing'})")
    return value


def _field_matches(expected: object, actual: object) -> bool:
    if isinstance(expected, str):
        return re.fullmatch(expected, as_text(actual)) is not None
    return json.dumps(expected) == json.dumps(actual, default=str)


def _check(what: str, expected: object, actual: object) -> str | None:
    if actual is _MISSING:
        return f"no {what}"
    if _field_matches(expected, actual):
        return None
    how = "does not match" if isinstance(expected, str) else "is not"
    shown = repr(actual) if isinstance(actual, str) else as_text(actual)
    return f"{what}: {shown} {how} {expected!r}"


def _header_problems(pattern: WirePattern, record: Mapping[str, object]) -> list[str]:
    present = _headers(record)
    problems = []
    for name, expected in pattern.headers.items():
        actual = present.get(name.lower())
        if expected is None:
            if actual is not None:
                problems.append(f"header {name} present ({actual!r}), expected absent")
        elif actual is None:
            problems.append(f"no header {name} (headers: {', '.join(present) or 'none'})")
        elif (problem := _check(f"header {name}", expected, actual)) is not None:
            problems.append(problem)
    return problems


def _scalars(pattern: WirePattern) -> dict[str, object]:
    return {
        k: v
        for k, v in (
            ("method", pattern.method),
            ("path", pattern.path),
            ("status", pattern.status),
            ("dir", pattern.direction),
            ("opcode", pattern.opcode),
            ("type", pattern.type),
        )
        if v is not None
    }


def mismatches(pattern: WirePattern, record: Mapping[str, object]) -> list[str]:
    """Why `record` does not match `pattern` (empty when it does)."""
    if record.get("kind") != pattern.kind:
        return [f"a {record.get('kind')} record, not a {pattern.kind}"]
    problems = []
    for key, expected in _scalars(pattern).items():
        problem = _check(key, expected, record.get(key, _MISSING))
        if problem is not None:
            problems.append(problem)
    seen = view(record)
    for name, expected in pattern.query.items():
        problem = _check(f"query {name}", expected, lookup(seen.get("query"), name))
        if problem is not None:
            problems.append(problem)
    problems += _header_problems(pattern, record)
    fields = pattern.body if pattern.kind != WS else pattern.match
    root = seen.get("body") if pattern.kind != WS else seen
    for path, expected in fields.items():
        label = f"body.{path}" if pattern.kind != WS else path
        problem = _check(label, expected, lookup(root, path))
        if problem is not None:
            problems.append(problem)
    return problems


def matches(pattern: WirePattern, record: Mapping[str, object]) -> bool:
    return record.get("kind") == pattern.kind and not mismatches(pattern, record)


def describe(pattern: WirePattern) -> str:
    """`a response with path =~ /.../, status == 304, header ETag =~ /.+/`."""
    parts = [_criterion(key, value) for key, value in _scalars(pattern).items()]
    parts += [_criterion(f"query {k}", v) for k, v in pattern.query.items()]
    parts += [
        f"no header {k}" if v is None else _criterion(f"header {k}", v)
        for k, v in pattern.headers.items()
    ]
    parts += [_criterion(f"body.{k}", v) for k, v in pattern.body.items()]
    parts += [_criterion(k, v) for k, v in pattern.match.items()]
    where = f" with {', '.join(parts)}" if parts else ""
    noun = "WebSocket frame" if pattern.kind == WS else pattern.kind
    return f"a {noun} on the wire{where}"


def _criterion(key: str, value: object) -> str:
    return f"{key} =~ /{value}/" if isinstance(value, str) else f"{key} == {json.dumps(value)}"


def resolve(pattern: WirePattern, variables: Mapping[str, object]) -> WirePattern:
    """`pattern` with `${var}` filled in (escaped inside regexes: values match literally)."""

    def fill(value: object) -> object:
        return substitute(value, variables, regex=isinstance(value, str))

    def fill_map(values: Mapping[str, object]) -> dict[str, object]:
        return {key: fill(value) for key, value in values.items()}

    def fill_str(value: str | None) -> str | None:
        return None if value is None else str(fill(value))

    return replace(
        pattern,
        method=fill_str(pattern.method),
        path=fill_str(pattern.path),
        status=fill(pattern.status),
        query=fill_map(pattern.query),
        headers=fill_map(pattern.headers),
        body=fill_map(pattern.body),
        type=fill_str(pattern.type),
        match=fill_map(pattern.match),
    )
