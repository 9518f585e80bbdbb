"""Shared by the tap tests: a record sink, and a tap in front of a server on the test's loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hil.streams import ScenarioClock, WireLog
from hil.tap.recorder import Recorder
from hil.tap.tap import WireTap


def dig(data: object, *keys: str) -> Any:
    """`data[k1][k2]...` of a record (JSON values), typed loosely for assertions."""
    for key in keys:
        assert isinstance(data, dict), f"{data!r} has no {key!r}"
        data = data[key]
    return data


class Collected:
    """Records a decoder emitted, in order, with a fixed clock."""

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []
        self.problems: list[str] = []
        self.rec = Recorder(
            1, clock=lambda: 1.0, sink=self.records.append, problems=self.problems.append
        )

    def kinds(self) -> list[str]:
        return [str(r["kind"]) for r in self.records]

    def of(self, kind: str) -> list[dict[str, object]]:
        return [r for r in self.records if r["kind"] == kind]


@asynccontextmanager
async def tapped(upstream: str, log_dir: Path) -> AsyncIterator[tuple[WireTap, WireLog]]:
    """A `WireTap` in front of `upstream` on this loop, recording to a WireLog."""
    wire = WireLog(label="wire", log_path=log_dir / "wire.jsonl", clock=ScenarioClock())
    tap = WireTap(upstream, sink=wire.add_record, clock=wire.now)
    await tap.start()
    try:
        yield tap, wire
    finally:
        await tap.stop()
        wire.close()
