"""Exceptions of the harness: one root (`HilError`) and what each failure carries.

A scenario that cannot be loaded raises `ScenarioLoadError` holding every `Problem`
found (file, line, column, message), so `teddy-hil validate` reports all of them at
once. At run time a step raises `StepFailedError` (its text is the failure report users
read: step, file:line, what was expected, the last lines seen, the log path) and a
missing capability raises `MissingCapabilityError`, which the runner turns into a skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class HilError(Exception):
    """Root of every exception the harness raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file; `line`/`column` are 1-based (0 = unknown)."""

    file: Path
    line: int
    message: str
    column: int = 0

    def where(self) -> str:
        return f"{display_path(self.file)}:{self.line}" if self.line else display_path(self.file)

    def __str__(self) -> str:
        return self.message


class ScenarioLoadError(HilError):
    """A scenario (or an included step file) is invalid; `problems` lists every finding."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (str(p.file), p.line)))
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownTargetError(HilError):
    """`get_target` was asked for a name no target registered."""


class TargetUnavailableError(HilError):
    """A registered target cannot run here (missing package, hardware or token)."""


class MissingCapabilityError(HilError):
    """A scenario or step needs a capability the target (or the server) lacks."""


class StepFailedError(HilError):
    """A step did not do what the scenario said; the message is the full report."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # one line, for the summary table


class ExpectTimeoutError(StepFailedError):
    """An expect step saw no matching line or event before its timeout."""


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
