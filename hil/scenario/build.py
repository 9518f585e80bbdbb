"""From a schema-valid step mapping to a typed `Step`, through its kind's builder.

The schema has already checked shapes. Here the step's one action key selects its kind
(`hil.steps.registry`), whose builder checks what the schema cannot express and
converts values; the keys every step may have (timeout, requires, name, clock, on) are
handled once for all kinds (`on:`, the device a step acts on, may come from its include).
Problems carry the file and line of the offending key, like schema problems.
"""

from __future__ import annotations

from hil.errors import Problem
from hil.scenario import model as m
from hil.scenario.include import RawStep
from hil.scenario.schema import STEP_COMMON_KEYS
from hil.scenario.values import parse_duration
from hil.steps.build import At, InvalidStepError
from hil.steps.registry import get_kind, step_names


def build_step(raw: RawStep, index: int) -> m.Step | Problem:
    """The typed step for `raw`, or the Problem that prevents it."""
    kinds = [k for k in raw.value if k not in STEP_COMMON_KEYS]
    at = At(raw.doc, raw.path)
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        message = (
            f"a step needs exactly one action at {raw.loc} (found: {found}); valid steps: "
            + ", ".join(step_names())
            + " (start each step with '- ')"
        )
        return Problem(raw.doc.path, raw.loc.line, message)
    name = kinds[0]
    kind = get_kind(name)
    value = raw.value[name]
    assert kind.build is not None, f"{name} steps are expanded before steps are built"
    try:
        action = kind.build(value, At(raw.doc, (*raw.path, name)))
        timeout = _timeout(raw.value, value, at)
    except InvalidStepError as exc:
        return Problem(raw.doc.path, raw.doc.line_of((*raw.path, name, *exc.sub)), str(exc))
    return m.Step(
        index=index,
        kind=name,
        action=action,
        loc=raw.loc,
        timeout=timeout,
        requires=frozenset(_strings(raw.value.get("requires"))),
        kind_needs=frozenset(kind.needs),
        name=str(raw.value["name"]) if "name" in raw.value else None,
        clock=str(raw.value["clock"]) if "clock" in raw.value else None,
        on=on.name if (on := raw.on()) is not None else None,
    )


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _timeout(step: dict[str, object], body: object, at: At) -> float | None:
    inner = body.get("timeout") if isinstance(body, dict) else None
    outer = step.get("timeout")
    if inner is not None and outer is not None:
        raise InvalidStepError(f"timeout given twice at {at.where()}; keep one")
    chosen = inner if inner is not None else outer
    return None if chosen is None else parse_duration(chosen)
