"""`RuleWatch`: the run-wide rules checked on every record of a scenario's three logs.

Every new record is judged once, in order: device console records against the device
`forbid:` entries, server events against the server ones, wire records against the wire
ones and against every built-in invariant the scenario does not exempt. The first hit is
kept as the run's breach, a `Crash` whose detail is the evidence: the rule, the record
that broke it, the wire records just before it, and where the logs are. `hil.runner.watch`
races every step against `wait()` and asks `seen()` once more after the last step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Final

from hil import expect as ex
from hil.errors import display_path
from hil.rules.invariants import INVARIANTS, Checker, Invariant
from hil.scenario import model as m
from hil.streams import Record, Stream
from hil.tap import pattern as wp
from hil.targets.crash import Crash

EVIDENCE_RECORDS: Final = 8


def auto_exempt(scenario: m.Scenario) -> dict[str, str]:
    """Invariants a scenario switches off by what its steps expect (besides `exempt:`).

    `no_error_frame` holds "unless the scenario expects one": a step waiting for the
    server's `chat.error` event or for an `error` frame on the wire says it does.
    """
    for step in scenario.steps:
        pattern = getattr(step.action, "pattern", None)
        if isinstance(pattern, m.EventPattern) and (
            pattern.source == m.SOURCE_SERVER and pattern.event == "chat.error"
        ):
            return {"no_error_frame": f"{step.label()} expects a chat.error"}
        if isinstance(pattern, wp.WirePattern) and pattern.kind == "ws" and pattern.type == "error":
            return {"no_error_frame": f"{step.label()} expects an error frame"}
    return {}


class RuleWatch:
    """The run-wide rules of one scenario run over its device, server and wire logs."""

    def __init__(
        self,
        scenario: m.Scenario,
        *,
        console: Stream,
        server_log: Stream,
        wire: Stream | None,
    ) -> None:
        off = {**auto_exempt(scenario), **scenario.exempt}
        self.invariants: list[tuple[Invariant, Checker]] = (
            [(inv, inv.checker()) for inv in INVARIANTS if inv.id not in off] if wire else []
        )
        self._streams: dict[str, Stream] = {"device": console, "server": server_log}
        if wire is not None:
            self._streams["wire"] = wire
        self._forbid = {
            name: [f for f in scenario.forbid if f.stream == name] for name in self._streams
        }
        self._pos = dict.fromkeys(self._streams, 0)
        self._wire = wire
        self.breach: Crash | None = None

    def seen(self) -> Crash | None:
        """Judge every record not judged yet; the first breach of the run, if any."""
        for name, stream in self._streams.items():
            while self.breach is None and self._pos[name] < len(stream.records):
                record = stream.records[self._pos[name]]
                self._pos[name] += 1
                self.breach = self._judge(name, record)
        return self.breach

    async def wait(self) -> Crash:
        """The first breach, once there is one (cancelled by the runner otherwise)."""
        while True:
            breach = self.seen()
            if breach is not None:
                return breach
            await self._any_new_record()

    async def _any_new_record(self) -> None:
        waiters = [
            asyncio.ensure_future(
                s.wait_for(lambda _r: True, start=self._pos[n], within=float("inf"))
            )
            for n, s in self._streams.items()
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    def _judge(self, name: str, record: Record) -> Crash | None:
        for forbid in self._forbid[name]:
            if self._forbidden(forbid, record):
                return self._forbid_breach(forbid, name, record)
        if name == "wire":
            for invariant, check in self.invariants:
                problem = check(record.data)
                if problem is not None:
                    return self._invariant_breach(invariant, problem, record)
        return None

    @staticmethod
    def _forbidden(forbid: m.Forbid, record: Record) -> bool:
        if forbid.wire is not None:
            return wp.matches(forbid.wire, record.data)
        return forbid.event is not None and ex.matches(forbid.event, record)

    def _forbid_breach(self, forbid: m.Forbid, name: str, record: Record) -> Crash:
        why = f" ({forbid.because})" if forbid.because else ""
        head = f"forbidden: {forbid.what()}{why}, written at {forbid.where}"
        return Crash(
            reason=f"forbidden {forbid.what()} happened: {record.text[:120]}",
            detail="\n".join([head, *self._evidence(name, record)]),
        )

    def _invariant_breach(self, invariant: Invariant, problem: str, record: Record) -> Crash:
        head = f"protocol invariant {invariant.title()} is broken: {problem}"
        hint = f"  a scenario that breaks it on purpose says so: exempt: {{{invariant.id}: <why>}}"
        return Crash(
            reason=f"invariant {invariant.id} (SPEC {invariant.spec}): {problem}",
            detail="\n".join([head, *self._evidence("wire", record), hint]),
        )

    def _evidence(self, name: str, record: Record) -> list[str]:
        stream = self._streams[name]
        lines = [f"  {stream.label} record {record.index + 1}: {record.describe()}"]
        if self._wire is not None:
            before = _before(self._wire.records, record if name == "wire" else None)
            if before:
                lines.append("  the wire records before it (newest last):")
                lines += [f"    {r.describe()}" for r in before]
            lines.append(f"  wire log: {display_path(self._wire.log_path)}")
        if name != "wire":
            lines.append(f"  {stream.label} log: {display_path(stream.log_path)}")
        return lines


def _any(_record: Record) -> bool:
    return True


def _before(records: Sequence[Record], record: Record | None) -> Iterable[Record]:
    end = record.index if record is not None else len(records)
    return records[max(0, end - EVIDENCE_RECORDS) : end]
