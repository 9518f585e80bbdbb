"""`Recorder`: how a connection's decoders hand finished records to the tap's sink.

A record is a plain JSON-able dict (hil.tap.records lists the members). The recorder
adds what every record of one connection shares (`conn`, `kind`, `dir`, `t`) and passes
it to the sink (the scenario's `WireLog`); a sink that raises is the harness's bug, not
the connection's, so it is reported once to the tap's problem list and never reaches the
relay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Clock = Callable[[], float]  # seconds on the scenario's clock
Sink = Callable[[dict[str, object]], None]
Problems = Callable[[str], None]  # something went wrong inside the tap itself
# A whole JSON object message (direction, the object as parsed, t): hil.tap.wire_audio.
MessageObserver = Callable[[str, Mapping[str, object], float], None]


class Recorder:
    """Stamps and emits the records of connection `conn`."""

    def __init__(self, conn: int, *, clock: Clock, sink: Sink, problems: Problems) -> None:
        self.conn = conn
        self.clock = clock
        self._sink = sink
        self._problems = problems
        self.audio: MessageObserver | None = None  # set by the tap when it keeps audio

    def now(self) -> float:
        return self.clock()

    def emit(
        self, kind: str, direction: str, members: Mapping[str, object], *, t: float | None = None
    ) -> None:
        stamp = self.clock() if t is None else t
        record: dict[str, object] = {
            "t": round(stamp, 6),
            "conn": self.conn,
            "dir": direction,
            "kind": kind,
        }
        record.update(members)
        try:
            self._sink(record)
        except Exception as exc:  # a broken log must not break the device's connection
            self._problems(f"wire sink failed on a {kind} record: {type(exc).__name__}: {exc}")
