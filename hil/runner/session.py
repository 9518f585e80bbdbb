"""A run of many scenarios: find files, load them, select with `-k`, run, report back.

The library entry point behind `teddy-hil run` (the CLI only parses arguments and fills
the `RunRequest`) and the pytest plugin (`run_file`). The request carries everything a
run is told, as typed fields: the chosen target with its options (`ChosenTarget`), where
artifacts go, the selection; a new run-wide setting is one more field here, handed down
to `run_scenario`, never an environment variable. Every scenario runs in a fresh event
loop, so tasks a misbehaving target leaves behind die with its scenario. A file that
fails to load is reported as a failed scenario with every problem, never silently
dropped.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hil.errors import ScenarioLoadError
from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.runner.servers import EmbeddedServer, ServerChoice
from hil.scenario.loader import discover, load_scenario
from hil.scenario.model import Scenario
from hil.select import keyword_matches
from hil.targets.base import ChosenTarget
from hil.targets.registry import choose
from server.speech.pipeline import SpeechPipeline

ResultCallback = Callable[[ScenarioResult], None]


def _emulator() -> ChosenTarget:
    return choose("emulator")


@dataclass(frozen=True)
class RunRequest:
    """What to run: scenario files, on which target with which options, and how."""

    paths: tuple[Path, ...]
    target: ChosenTarget = field(default_factory=_emulator)
    artifacts: Path = Path("artifacts")
    keyword: str | None = None
    fail_fast: bool = False
    # The server under test: a fresh embedded reference server per scenario, or one at a URL.
    server: ServerChoice = field(default_factory=EmbeddedServer)


@dataclass
class SessionResult:
    results: list[ScenarioResult] = field(default_factory=list)
    run_dir: Path | None = None
    duration_s: float = 0.0
    deselected: int = 0

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)


@dataclass(frozen=True)
class Planned:
    path: Path
    scenario: Scenario | None
    error: ScenarioLoadError | None = None

    def names(self) -> list[str]:
        names = [str(self.path)]
        if self.scenario is not None:
            names += [self.scenario.name, *self.scenario.tags]
        return names


def plan(paths: Sequence[Path], *, keyword: str | None) -> tuple[list[Planned], int]:
    """Load every scenario file under `paths`; keep those `keyword` selects."""
    planned: list[Planned] = []
    deselected = 0
    for path in discover(paths):
        try:
            item = Planned(path, load_scenario(path))
        except ScenarioLoadError as exc:
            item = Planned(path, None, exc)
        if keyword and not keyword_matches(keyword, item.names()):
            deselected += 1
            continue
        planned.append(item)
    return planned, deselected


def artifact_name(path: Path) -> str:
    """`claim/happy` for `scenarios/claim/happy.yaml` (the part below `scenarios/`)."""
    parts = path.with_suffix("").parts
    if "scenarios" in parts:
        below = parts[len(parts) - parts[::-1].index("scenarios") :]
        if below:
            return "/".join(below)
    return path.stem


def load_failure(path: Path, error: ScenarioLoadError, *, target: str) -> ScenarioResult:
    first = error.problems[0].message if error.problems else str(error)
    count = len(error.problems)
    reason = f"invalid scenario: {first}" + (f" (+{count - 1} more)" if count > 1 else "")
    detail = "invalid scenario:\n" + "\n".join(f"  {p.message}" for p in error.problems)
    return ScenarioResult(
        name=path.stem, path=path, status=Status.FAILED, reason=reason, detail=detail, target=target
    )


def run_file(
    path: Path,
    *,
    target: ChosenTarget,
    artifact_dir: Path,
    pipeline: SpeechPipeline | None = None,
    server: ServerChoice | None = None,
) -> ScenarioResult:
    """Load and run one scenario file on `target`."""
    try:
        scenario = load_scenario(path)
    except ScenarioLoadError as exc:
        return load_failure(path, exc, target=target.name)
    return asyncio.run(
        run_scenario(
            scenario,
            target=target,
            artifact_dir=artifact_dir,
            pipeline=pipeline or shared_pipeline(),
            server=server,
        )
    )


def new_run_dir(root: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{stamp}-{os.getpid()}"


def run_session(
    request: RunRequest,
    *,
    pipeline: SpeechPipeline | None = None,
    on_result: ResultCallback | None = None,
) -> SessionResult:
    """Run every selected scenario; `on_result` sees each result as it finishes."""
    began = time.monotonic()
    planned, deselected = plan(request.paths, keyword=request.keyword)
    session = SessionResult(run_dir=new_run_dir(request.artifacts), deselected=deselected)
    assert session.run_dir is not None
    used: set[str] = set()
    for item in planned:
        if item.scenario is None:
            assert item.error is not None
            result = load_failure(item.path, item.error, target=request.target.name)
        else:
            name = artifact_name(item.path)
            while name in used:
                name += "_"
            used.add(name)
            result = asyncio.run(
                run_scenario(
                    item.scenario,
                    target=request.target,
                    artifact_dir=session.run_dir / name,
                    pipeline=pipeline or shared_pipeline(),
                    server=request.server,
                )
            )
        session.results.append(result)
        if on_result is not None:
            on_result(result)
        if request.fail_fast and result.failed:
            break
    session.duration_s = time.monotonic() - began
    return session
