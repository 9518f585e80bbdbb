"""Waiting for wire records (hil.tap.pattern) the way hil.expect waits for events.

`expect_wire` searches forward from the wire log's cursor and moves it past the match;
`expect_wire_absent` fails if a match appears within a window (the cursor stays). A miss
reports, like `expect`, what was expected, the records of that kind since the cursor
that came closest (fewest failed criteria first) with why each is not a match, the last
wire records, the console tail and the paths of both logs (hil.expect.report).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Final

from hil import expect as ex
from hil.errors import ExpectTimeoutError, StepFailedError
from hil.streams import DeviceConsole, Record, Stream
from hil.tap import pattern as wp

NEAR_MISSES: Final = 3


def near_misses(pattern: wp.WirePattern, wire: Stream, start: int) -> list[str]:
    """The closest records of the pattern's kind since `start`, and why they differ."""
    same = [r for r in wire.records[start:] if r.name == pattern.kind]
    if pattern.direction is not None:
        same = [r for r in same if r.data.get("dir") == pattern.direction]
    if not same:
        return [f"no {pattern.kind} record since the step started"]
    ranked = sorted(same, key=lambda r: (len(wp.mismatches(pattern, r.data)), -r.index))
    closest = sorted(ranked[:NEAR_MISSES], key=lambda r: r.index)
    notes = [f"{len(same)} {pattern.kind} record(s) since the step started; the closest:"]
    for record in closest:
        notes.append(f"  {record.describe()}")
        notes += [f"    {why}" for why in wp.mismatches(pattern, record.data)]
    return notes


async def expect_wire(
    wire: Stream,
    pattern: wp.WirePattern,
    *,
    within: float,
    label: str,
    console: DeviceConsole,
    sim: ex.SimDeadline | None = None,
) -> Record:
    """The first record after the cursor that matches; the cursor moves past it."""
    begin = wire.cursor
    record = await ex.wait_record(
        wire, lambda r: wp.matches(pattern, r.data), start=begin, within=within, sim=sim
    )
    if record is None:
        text = ex.report(
            headline=f"{label}: timed out after {ex.after(within, sim)}",
            expected=wp.describe(pattern),
            stream=wire,
            start=begin,
            console=console,
            notes=near_misses(pattern, wire, begin),
        )
        reason = f"no matching {pattern.kind} on the wire within {ex.after(within, sim)} ({label})"
        raise ExpectTimeoutError(text, reason=reason)
    wire.cursor = record.index + 1
    return record


async def expect_wire_absent(
    wire: Stream,
    pattern: wp.WirePattern,
    *,
    within: float,
    label: str,
    console: DeviceConsole,
    sim: ex.SimDeadline | None = None,
) -> None:
    """Fail if a matching record appears after the cursor within `within` seconds."""
    begin = wire.cursor
    record = await ex.wait_record(
        wire, lambda r: wp.matches(pattern, r.data), start=begin, within=within, sim=sim
    )
    if record is not None:
        text = ex.report(
            headline=f"{label}: a forbidden {pattern.kind} crossed the wire",
            expected=f"no {wp.describe(pattern)} for {ex.after(within, sim)}",
            stream=wire,
            start=begin,
            console=console,
            notes=[f"seen: {record.describe()}"],
        )
        raise StepFailedError(text, reason=f"unexpected {record.text.strip()} ({label})")


def capture(
    record: Mapping[str, object],
    wanted: Mapping[str, str],
    variables: MutableMapping[str, object],
    *,
    label: str,
) -> None:
    """Store the value at each `var: path` of `wanted` (hil.tap.pattern.capture_value)."""
    for var, path in wanted.items():
        try:
            variables[var] = wp.capture_value(record, path)
        except KeyError as exc:
            message = f"{label}: cannot capture {var!r}: {exc.args[0]}"
            raise StepFailedError(message, reason=message) from None
