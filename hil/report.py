"""Human-readable results: one progress line per scenario and the summary table.

The progress line is printed as each scenario finishes (CI logs show progress even
when a later scenario hangs). The summary is a plain-text table (name, result, time,
reason) followed by the full failure reports, then the totals, like pytest's `-ra`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

from hil.errors import display_path
from hil.result import ScenarioResult, Status

LABELS: Final = {Status.PASSED: "PASS", Status.FAILED: "FAIL", Status.SKIPPED: "SKIP"}
REASON_WIDTH: Final = 90


def seconds(value: float) -> str:
    return f"{value:.2f}s"


def shorten(text: str, width: int = REASON_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def progress_line(result: ScenarioResult, *, index: int, total: int) -> str:
    """`[ 2/25] PASS claim-happy (scenarios/claim/happy.yaml) 1.23s`, plus the reason."""
    width = len(str(total))
    head = f"[{index:>{width}}/{total}] {LABELS[result.status]} {result.name}"
    head += f" ({display_path(result.path)}) {seconds(result.duration_s)}"
    return f"{head}: {shorten(result.reason)}" if result.reason else head


def table(rows: Sequence[Sequence[str]], *, header: Sequence[str]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(r) for r in rows)])


def totals(results: Sequence[ScenarioResult], *, duration_s: float, deselected: int = 0) -> str:
    counts = Counter(r.status for r in results)
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    if deselected:
        parts.append(f"{deselected} deselected")
    return f"{', '.join(parts) or 'no scenarios'} in {seconds(duration_s)}"


def summary(results: Sequence[ScenarioResult], *, duration_s: float, deselected: int = 0) -> str:
    """The table, the failure reports and the totals line."""
    rows = [(r.name, r.status.value, seconds(r.duration_s), shorten(r.reason)) for r in results]
    parts = [table(rows, header=("scenario", "result", "time", "reason"))] if rows else []
    failures = [r for r in results if r.status is Status.FAILED]
    for result in failures:
        parts.append(f"\n=== FAILED {result.name} ===\n{result.failure_text()}")
    parts.append("\n" + totals(results, duration_s=duration_s, deselected=deselected))
    return "\n".join(parts)
