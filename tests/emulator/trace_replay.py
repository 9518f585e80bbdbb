"""Replaying a device trace on the Python core and reporting where it disagrees.

Owns the comparison rule of SPEC §10 on the Python side: the effects the core returns
for one step, free-text prints dropped, must equal the step's expected effects exactly
and in order (canonical JSON, so every field counts). The first step that differs
raises `TraceMismatch`, whose message names the trace file, the step, its input and
both effect lists with the first difference marked (the C driver prints the same).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from protocol.device_codec import to_json
from tests.emulator.device_traces import Step, Trace, build_device, compared


class TraceMismatch(AssertionError):  # noqa: N818 - a failed check, reported as such
    """The core's effects differ from a step's expectation."""


def _line(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def first_difference(expected: Sequence[object], actual: Sequence[object]) -> int:
    """Index of the first effect that differs (the shorter length when one is a prefix)."""
    for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            return i
    return min(len(expected), len(actual))


def _listing(title: str, effects: Sequence[object], mark: int) -> list[str]:
    lines = [f"{title} ({len(effects)}):"]
    for i, effect in enumerate(effects):
        lines.append(f"{'>>' if i == mark else '  '} {i:3} {_line(effect)}")
    if mark >= len(effects):
        lines.append(f">> {mark:3} (nothing)")
    return lines


def mismatch_report(
    *,
    core: str,
    trace: str,
    step: Step,
    expected: Sequence[object],
    actual: Sequence[object],
) -> str:
    """The report both drivers print: file, step, input, both lists, first difference."""
    mark = first_difference(expected, actual)
    where = f"{step.where} (now_ms {step.now_ms})"
    lines = [
        f"device trace {trace}, {where}: the {core} core disagrees at effect {mark}",
        f"input: {_line(to_json(step.input)) if step.input is not None else '(power-on start)'}",
    ]
    if step.note:
        lines.append(f"note: {step.note}")
    lines += _listing("expected effects", expected, mark)
    lines += _listing("actual effects (free-text prints dropped)", actual, mark)
    return "\n".join(lines)


def replay(trace: Trace) -> None:
    """Run every step of `trace` on a fresh Python core; TraceMismatch at the first drift."""
    device = build_device(trace)
    for step in trace.steps:
        if step.input is None:
            effects = device.start(now_ms=step.now_ms)
        else:
            effects = device.handle(step.input, now_ms=step.now_ms)
        actual = compared(effects)
        if actual != list(step.effects):
            raise TraceMismatch(
                mismatch_report(
                    core="Python",
                    trace=trace.name,
                    step=step,
                    expected=step.effects,
                    actual=actual,
                )
            )
