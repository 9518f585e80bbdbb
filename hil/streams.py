"""What the harness saw: the device console, the server's events and the wire, in order.

All are append-only lists of `Record`s that steps search forward from a cursor
(pexpect/pytest-embedded semantics: an `expect` consumes everything up to and including
its match). Every record is also written at once to the artifact folder
(`console.log`, `events.jsonl`, `server-events.jsonl`, `wire.jsonl`) so a crashed run
still leaves its logs. Records may arrive from another thread (a serial reader, the
server thread, the wire tap's thread); waiters are woken through the event loop.

The streams of one scenario share one clock (`ScenarioClock`): a record's `t` is seconds
since the scenario's streams were opened, so console.log, server-events.jsonl and
wire.jsonl line up.

Garbage never raises here: a line that starts with `@teddy ` but is malformed, or an
event the SPEC §8.2 catalogue does not know, becomes a record with a `problem`, which
the runner reports (SPEC §8.1 calls it a defect of the target).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hil.tap.records import describe as describe_wire
from protocol.errors import ProtocolError
from protocol.eventline import parse_event_line, validate_event


class ScenarioClock:
    """Seconds since the scenario began: the `t` of every stream of one scenario.

    `wall_origin` is the wall-clock time (epoch seconds) of the same instant, so a time
    another process stamped on the wall clock (a speaker's first sample, the server's
    received audio) lands on this clock: `from_wall`.
    """

    def __init__(self) -> None:
        self.origin = time.monotonic()
        self.wall_origin = time.time()

    def now(self) -> float:
        return time.monotonic() - self.origin

    def from_wall(self, wall_s: float) -> float:
        """Scenario seconds of the wall-clock time `wall_s` (epoch seconds)."""
        return wall_s - self.wall_origin

    def to_wall(self, t: float) -> float:
        """Epoch seconds of the scenario time `t`."""
        return self.wall_origin + t


@dataclass(frozen=True)
class Record:
    index: int
    t: float  # seconds since the stream was opened
    text: str  # the console line, or "name {json}" for a server event
    name: str | None = None  # event name; None for free text
    data: dict[str, object] = field(default_factory=dict)
    problem: str | None = None  # why the line is not a valid SPEC §8 event line

    def describe(self) -> str:
        return f"[{self.t:8.3f}] {self.text}"


class Stream:
    """An append-only record list with async waiting and a log file."""

    def __init__(self, *, label: str, log_path: Path, clock: ScenarioClock | None = None) -> None:
        self.label = label
        self.log_path = log_path
        self.records: list[Record] = []
        self.cursor = 0
        self.clock = clock or ScenarioClock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._changed: asyncio.Future[None] | None = None
        self._lock = threading.Lock()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[str] = log_path.open("w", encoding="utf-8", errors="backslashreplace")

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake waiters on `loop` (call from the loop before the first wait)."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def now(self) -> float:
        return self.clock.now()

    def _append(self, make: Callable[[int], Record], log_text: str) -> Record:
        with self._lock:
            record = make(len(self.records))
            self.records.append(record)
            if not self._log.closed:
                self._log.write(log_text + "\n")
                self._log.flush()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            if threading.get_ident() == self._loop_thread:
                self._wake()
            else:
                loop.call_soon_threadsafe(self._wake)
        return record

    def _wake(self) -> None:
        if self._changed is not None and not self._changed.done():
            self._changed.set_result(None)
        self._changed = None

    async def wait_for(
        self, predicate: Callable[[Record], bool], *, start: int, within: float
    ) -> Record | None:
        """The first record from index `start` on that satisfies `predicate`, or None."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self.bind(loop)
        deadline = loop.time() + within
        pos = start
        while True:
            while pos < len(self.records):
                record = self.records[pos]
                pos += 1
                if predicate(record):
                    return record
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            if self._changed is None:
                self._changed = loop.create_future()
            # asyncio.wait, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that arrives as the future completes, and a watcher waiting without a
            # deadline (hil.runner.watch) would then never end.
            await asyncio.wait({self._changed}, timeout=remaining)

    def tail(self, count: int) -> list[Record]:
        return self.records[-count:]

    def problems(self) -> list[Record]:
        return [r for r in self.records if r.problem]

    def close(self) -> None:
        with self._lock:
            self._log.close()


class DeviceConsole(Stream):
    """The device's console: free text and SPEC §8 event lines (events.jsonl beside it)."""

    def __init__(
        self, *, log_path: Path, events_path: Path, clock: ScenarioClock | None = None
    ) -> None:
        super().__init__(label="console", log_path=log_path, clock=clock)
        self._events: IO[str] = events_path.open("w", encoding="utf-8")

    def add_line(self, line: str) -> None:
        """Record one console line; never raises, whatever the device printed."""
        name: str | None = None
        data: dict[str, object] = {}
        problem: str | None = None
        try:
            event = parse_event_line(line)
            if event is not None:
                name, data = event.name, dict(event.data)
                validate_event(event)
        except ProtocolError as exc:
            problem = str(exc)
        except Exception as exc:  # a parser bug must not end the run either
            problem = f"{type(exc).__name__}: {exc}"
        t = self.now()
        record = self._append(
            lambda i: Record(i, t, line, name, data, problem), f"[{t:9.3f}] {line}"
        )
        if name is not None or problem is not None:
            self._write_event(record)

    def _write_event(self, record: Record) -> None:
        entry: dict[str, object] = {"t": round(record.t, 4), "line": record.index + 1}
        if record.name is not None:
            entry.update(event=record.name, data=record.data)
        if record.problem is not None:
            entry.update(problem=record.problem, text=record.text)
        if not self._events.closed:
            self._events.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
            self._events.flush()

    def close(self) -> None:
        super().close()
        self._events.close()


class ServerEventLog(Stream):
    """Events the reference server published (`server.events`), as seen by the harness."""

    def add_event(self, name: str, data: dict[str, object], *, server_time: float) -> None:
        t = self.now()
        text = f"{name} {json.dumps(data, ensure_ascii=False, default=str)}"
        entry = {"t": round(t, 4), "server_time": server_time, "name": name, "data": data}
        self._append(
            lambda i: Record(i, t, text, name, dict(data)),
            json.dumps(entry, ensure_ascii=False, default=str),
        )


class WireLog(Stream):
    """What crossed the wire tap (hil.tap): requests, responses, frames, connections.

    Each record's `name` is the wire record's kind (`request`, `response`, `ws`,
    `connect`, `close`, `error`), its `data` the whole record as written to wire.jsonl
    (hil/README.md, "The wire log") and its `text` the one-line form failure reports show.
    The tap stamps `t` itself (on this stream's clock) when the bytes arrived.
    """

    def add_record(self, data: dict[str, object]) -> None:
        """Record one wire record (from the tap's thread); never raises on odd members."""
        stamp = data.get("t")
        t = float(stamp) if isinstance(stamp, int | float) else self.now()
        text = describe_wire(data)
        kind = data.get("kind")
        self._append(
            lambda i: Record(i, t, text, str(kind), data),
            json.dumps(data, ensure_ascii=False, default=str),
        )
