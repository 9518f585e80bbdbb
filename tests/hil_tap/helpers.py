"""Shared by the tap tests: a record sink, and a tap in front of a server on the test's loop."""

from __future__ import annotations

import json
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


def wire_problems(artifact_dir: Path) -> list[str]:
    """What is missing from a passed scenario's wire.jsonl (empty when all is there).

    Every scenario makes HTTP requests (config, claim) and gets answers; one whose device
    opened the chat (`ws.open` in events.jsonl) must show the server's frames (it always
    greets, SPEC §6.4; a device may send nothing before the scenario ends); and the
    reference server and our devices speak a protocol the tap decodes, so no `error`.
    """
    path = artifact_dir / "wire.jsonl"
    if not path.is_file():
        return [f"no {path}"]
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    kinds = {(r["kind"], r["dir"]) for r in records}
    problems = [
        f"no {kind} record" for kind in ("request", "response") if kind not in {k for k, _ in kinds}
    ]
    events = (artifact_dir / "events.jsonl").read_text(encoding="utf-8")
    if '"event": "ws.open"' in events:
        problems += [] if ("ws", "down") in kinds else ["no ws record down"]
    problems += [f"tap error: {r['error']}" for r in records if r["kind"] == "error"]
    return problems
