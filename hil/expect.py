"""The expect engine: match records against patterns, wait with a timeout, explain misses.

Matching rules (the scenario reference repeats them):
- `match: {field: "<regex>"}` — a string is a regular expression that must match the
  whole field value (`re.fullmatch`), the value written as in JSON (`true`, `7`).
- `match: {field: 7}` / `true` / `null` — a non-string must equal the value exactly.
- `expect_line: "<regex>"` searches each console line (`re.search`).
When an expect times out, the error shows the step and its file:line, what was expected,
the events of the same name that did not match and why (near misses), the last 20
console lines and the path of the full log: everything pytest-embedded users miss when
`dut.expect` fails. Where the runner's wire tap is in place, every report also shows the
last wire records (one line each: `#3 down GET /api/v1/esp32/config -> 304`) and the
path of wire.jsonl: the runner names the scenario's `WireLog` in `WIRE_SHOWN` (a context
variable, so every step kind's report gets it without passing it along).

Timeouts count wall time, or simulated time when a `SimDeadline` is given (a step with
`clock: simulated` on a simulator): the wait then ends when the simulation's clock has
advanced by the timeout, and the messages say "of simulated time".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Mapping, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from hil.errors import ExpectTimeoutError, StepFailedError, display_path
from hil.scenario.model import EventPattern
from hil.scenario.values import as_text, format_seconds, substitute
from hil.streams import DeviceConsole, Record, Stream

LAST_LINES = 20
LAST_WIRE = 12
NEAR_MISSES = 3


@dataclass(frozen=True)
class WireShown:
    """The wire log failure reports show, and where the running step began in it."""

    stream: Stream
    step_start: int


WIRE_SHOWN: ContextVar[WireShown | None] = ContextVar("hil_wire_shown", default=None)


def wire_lines(shown: WireShown | None, *, listed: bool = False) -> list[str]:
    """The report's wire part: the last records ('>' = during this step) and the log path.

    `listed`: the report already lists the wire stream's records (an expect_wire step).
    """
    if shown is None:
        return []
    lines = []
    records = shown.stream.records
    if not listed:
        seen = shown.stream.tail(LAST_WIRE)
        if seen:
            lines.append(
                f"  last {len(seen)} of {len(records)} wire records "
                "(newest last; '>' = during this step):"
            )
            mark = shown.step_start
            lines += [f"    {'>' if r.index >= mark else '|'} {r.describe()}" for r in seen]
        else:
            lines.append("  nothing crossed the wire tap")
    lines.append(f"  wire log: {display_path(shown.stream.log_path)}")
    return lines


@dataclass(frozen=True)
class SimDeadline:
    """A timeout counted in simulated time: `expired` completes once it has passed."""

    expired: asyncio.Future[None]
    wall_s: float  # the longest the wait may last in wall time (a stalled simulation)


def after(within: float, sim: SimDeadline | None) -> str:
    """`10s`, or `10s of simulated time` (and why it ended, if the simulation stalled)."""
    if sim is None:
        return format_seconds(within)
    if sim.expired.done():
        return f"{format_seconds(within)} of simulated time"
    stall = format_seconds(sim.wall_s)
    return f"{format_seconds(within)} of simulated time (not reached within {stall} of wall time)"


async def wait_record(
    stream: Stream,
    predicate: Callable[[Record], bool],
    *,
    start: int,
    within: float,
    sim: SimDeadline | None = None,
) -> Record | None:
    """`stream.wait_for`, ending at the simulated deadline instead of `within` if given."""
    if sim is None:
        return await stream.wait_for(predicate, start=start, within=within)
    waiter = asyncio.ensure_future(stream.wait_for(predicate, start=start, within=sim.wall_s))
    try:
        both: list[asyncio.Future[Any]] = [waiter, sim.expired]
        await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not waiter.done():
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
    if waiter.cancelled():  # the deadline passed: a record of that very instant still counts
        return await stream.wait_for(predicate, start=start, within=0)
    return waiter.result()


def resolve(pattern: EventPattern, variables: Mapping[str, object]) -> EventPattern:
    """`pattern` with `${var}` filled in (escaped inside regexes: values match literally)."""
    match = {
        key: substitute(value, variables, regex=isinstance(value, str))
        for key, value in pattern.match.items()
    }
    return replace(pattern, match=match)


def field_matches(expected: object, actual: object) -> bool:
    if isinstance(expected, str):
        return re.fullmatch(expected, as_text(actual)) is not None
    return json.dumps(expected) == json.dumps(actual, default=str)


def mismatches(pattern: EventPattern, record: Record) -> list[str]:
    """Why `record` (an event of the pattern's name) does not match; empty if it does."""
    problems = []
    for key, expected in pattern.match.items():
        if key not in record.data:
            problems.append(f"no field {key!r} (fields: {', '.join(record.data) or 'none'})")
        elif not field_matches(expected, record.data[key]):
            how = "does not match" if isinstance(expected, str) else "is not"
            problems.append(f"{key}: {as_text(record.data[key])!r} {how} {expected!r}")
    return problems


def matches(pattern: EventPattern, record: Record) -> bool:
    return record.name == pattern.event and not mismatches(pattern, record)


def describe(pattern: EventPattern) -> str:
    parts = [
        f"{key} =~ /{value}/" if isinstance(value, str) else f"{key} == {json.dumps(value)}"
        for key, value in pattern.match.items()
    ]
    where = f" with {', '.join(parts)}" if parts else ""
    return f"{pattern.source} event {pattern.event}{where}"


def report(
    *,
    headline: str,
    expected: str,
    stream: Stream,
    start: int,
    console: DeviceConsole,
    notes: list[str] | None = None,
) -> str:
    """The multi-line failure text shared by the CLI, result.json and pytest."""
    lines = [headline, f"  expected: {expected}"]
    lines += [f"  {note}" for note in notes or []]
    if stream is not console:
        seen = stream.tail(LAST_LINES)
        lines.append(f"  last {len(seen)} {stream.label} records (newest last):")
        lines += [f"    {'>' if r.index >= start else '|'} {r.describe()}" for r in seen]
        start = len(console.records)
    tail = console.tail(LAST_LINES)
    if tail:
        lines.append(
            f"  last {len(tail)} of {len(console.records)} console lines "
            "(newest last; '>' = printed during this step):"
        )
        lines += [f"    {'>' if r.index >= start else '|'} {r.describe()}" for r in tail]
    else:
        lines.append("  the device printed nothing")
    lines.append(f"  full log: {display_path(console.log_path)}")
    shown = WIRE_SHOWN.get()
    lines += wire_lines(shown, listed=shown is not None and stream is shown.stream)
    return "\n".join(lines)


def near_misses(pattern: EventPattern, stream: Stream, start: int) -> list[str]:
    same = [r for r in stream.records[start:] if r.name == pattern.event][-NEAR_MISSES:]
    if not same:
        return []
    notes = [f"{len(same)} {pattern.event} event(s) since the step started did not match:"]
    for record in same:
        notes.append(f"  {record.describe()}")
        notes += [f"    {why}" for why in mismatches(pattern, record)]
    return notes


async def expect_event(
    stream: Stream,
    pattern: EventPattern,
    *,
    within: float,
    label: str,
    console: DeviceConsole,
    consume: bool = True,
    start: int | None = None,
    sim: SimDeadline | None = None,
) -> Record:
    """Wait for the first matching record after `start` (default: the cursor)."""
    begin = stream.cursor if start is None else start
    record = await wait_record(
        stream, lambda r: matches(pattern, r), start=begin, within=within, sim=sim
    )
    if record is None:
        headline = f"{label}: timed out after {after(within, sim)}"
        text = report(
            headline=headline,
            expected=describe(pattern),
            stream=stream,
            start=begin,
            console=console,
            notes=near_misses(pattern, stream, begin),
        )
        reason = f"no {pattern.event} matching within {after(within, sim)} ({label})"
        raise ExpectTimeoutError(text, reason=reason)
    if consume:
        stream.cursor = record.index + 1
    return record


async def expect_line(
    console: DeviceConsole,
    pattern: str,
    *,
    within: float,
    label: str,
    sim: SimDeadline | None = None,
) -> re.Match[str]:
    """Wait for a console line in which `pattern` is found (`re.search`)."""
    regex = re.compile(pattern)
    begin = console.cursor
    record = await wait_record(
        console, lambda r: regex.search(r.text) is not None, start=begin, within=within, sim=sim
    )
    if record is None:
        text = report(
            headline=f"{label}: timed out after {after(within, sim)}",
            expected=f"a console line containing /{pattern}/",
            stream=console,
            start=begin,
            console=console,
        )
        reason = f"no line matching /{pattern}/ within {after(within, sim)} ({label})"
        raise ExpectTimeoutError(text, reason=reason)
    console.cursor = record.index + 1
    found = regex.search(record.text)
    assert found is not None
    return found


async def expect_absent(
    stream: Stream,
    pattern: EventPattern,
    *,
    within: float,
    label: str,
    console: DeviceConsole,
    sim: SimDeadline | None = None,
) -> None:
    """Fail if a matching record appears (after the cursor) within `within` seconds."""
    begin = stream.cursor
    record = await wait_record(
        stream, lambda r: matches(pattern, r), start=begin, within=within, sim=sim
    )
    if record is not None:
        text = report(
            headline=f"{label}: a forbidden event appeared",
            expected=f"no {describe(pattern)} for {after(within, sim)}",
            stream=stream,
            start=begin,
            console=console,
            notes=[f"seen: {record.describe()}"],
        )
        raise StepFailedError(text, reason=f"unexpected {record.name} ({label})")


def capture(
    data: Mapping[str, object],
    wanted: Mapping[str, str],
    variables: MutableMapping[str, object],
    *,
    label: str,
) -> None:
    """Store `data[field]` as `variables[var]` for every `var: field` in `wanted`."""
    for var, field_name in wanted.items():
        if field_name not in data:
            fields = ", ".join(data) or "none"
            message = f"{label}: cannot capture {var!r}: no field {field_name!r} (fields: {fields})"
            raise StepFailedError(message, reason=message)
        variables[var] = data[field_name]
