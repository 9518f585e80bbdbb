"""JSON Schema validation with messages people can act on.

jsonschema's own messages ("Additional properties are not allowed") name neither the
file nor the line nor what would have been valid. Each error is rewritten as
"<what is wrong> at <file>:<line>; valid <things>: ..." using the line table of
`hil.scenario.yamldoc`, plus a "did you mean" for near misses (misspelt step names).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from hil.errors import Problem
from hil.scenario.fragments import Schema
from hil.scenario.schema import STEP_COMMON_KEYS
from hil.scenario.yamldoc import DataPath, YamlDoc
from hil.steps.registry import step_names

_TYPE_NAMES = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def schema_problems(doc: YamlDoc, schema: Schema) -> list[Problem]:
    """Every schema violation in `doc`, one Problem each, ordered by line."""
    return schema_check(doc, schema)[0]


def schema_check(doc: YamlDoc, schema: Schema) -> tuple[list[Problem], set[DataPath]]:
    """Problems and the data paths they were found at (to skip building those steps)."""
    if doc.data is None:
        return [
            doc.problem(
                (),
                f"{doc.where(())}: empty file; expected a mapping with "
                "version: 1, name, description and steps",
            )
        ], {()}
    validator = Draft202012Validator(schema)
    problems: dict[tuple[int, str], Problem] = {}
    paths: set[DataPath] = set()
    for error in validator.iter_errors(doc.data):
        paths.add(tuple(error.absolute_path))
        for problem in _explain(doc, error):
            problems.setdefault((problem.line, problem.message), problem)
    return sorted(problems.values(), key=lambda p: (p.line, p.message)), paths


def describe_path(path: Sequence[object]) -> str:
    """`steps[3].expect.match` for ("steps", 2, "expect", "match") (items count from 1)."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "the document"


def valid_list(names: Iterable[object], *, wrong: str | None = None) -> str:
    listed = [str(n) for n in names]
    hint = ""
    if wrong is not None:
        close = difflib.get_close_matches(wrong, listed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ", ".join(listed) + hint


def _is_step(path: DataPath) -> bool:
    return len(path) >= 2 and path[-2] == "steps" and isinstance(path[-1], int)


def _explain(doc: YamlDoc, error: ValidationError) -> list[Problem]:
    path: DataPath = tuple(error.absolute_path)
    where = describe_path(path)
    if "propertyNames" in error.schema_path:
        key = error.instance
        at = doc.where((*path, key))
        line = doc.line_of((*path, key))
        names: Any = error.validator_value if error.validator == "enum" else None
        if _is_step(path):
            message = f"unknown step {key!r} at {at}; valid steps: "
            message += valid_list(step_names(), wrong=str(key))
            message += "; each step may also have: " + ", ".join(STEP_COMMON_KEYS)
        elif names is not None:
            message = f"unknown key {key!r} in {where} at {at}; valid keys: "
            message += valid_list(names, wrong=str(key))
        else:
            message = f"bad name {key!r} in {where} at {at}: {error.message}"
        return [doc_problem(doc, line, message)]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema: Any = error.schema
        allowed = list(schema.get("properties", {}))
        problems = []
        for key in error.instance:
            if key not in allowed:
                at = doc.where((*path, key))
                message = f"unknown key {key!r} in {where} at {at}; valid keys: "
                message += valid_list(allowed, wrong=str(key)) if allowed else "(none)"
                problems.append(doc_problem(doc, doc.line_of((*path, key)), message))
        return problems
    return [doc_problem(doc, doc.line_of(path), _message(doc, error, path, where))]


def doc_problem(doc: YamlDoc, line: int, message: str) -> Problem:
    return Problem(doc.path, line, message)


def _message(doc: YamlDoc, error: ValidationError, path: DataPath, where: str) -> str:
    at = doc.where(path)
    kind = error.validator
    value: Any = error.instance
    wanted: Any = error.validator_value
    schema: Any = error.schema
    if kind == "required":
        missing = [k for k in wanted if k not in value]
        return f"{where} at {at} lacks required key(s): {', '.join(missing)}"
    if kind == "enum":
        return f"{value!r} is not valid for {where} at {at}; valid: " + valid_list(
            wanted, wrong=str(value)
        )
    if kind == "const":
        return f"{where} at {at} must be {wanted!r} (got {value!r})"
    if kind == "type":
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        text = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        hint = ""
        if "string" in names and isinstance(value, int | float) and not isinstance(value, bool):
            hint = f' (quote it: "{value}")'
        return f"{where} at {at} must be {text}, got {value!r}{hint}"
    if kind == "pattern":
        hint = schema.get("x-hint") or f"text matching {wanted}"
        return f"{where} at {at}: {value!r} is not {hint}"
    return f"{where} at {at}: {error.message}"
