"""`teddy-hil selftest`: the suite's own power, as a kill matrix over named quirks.

Every legacy-server quirk (SPEC Appendix B) and every device quirk (SPEC Appendix C) is a
known defect the suite should notice. Selftest runs the scenarios once as they are (the
baseline), then once per quirk with that quirk switched on in every scenario (a mutant), and
reports which scenarios the quirk made fail: a scenario *kills* a quirk when it passed at
the baseline and fails with the quirk. A quirk that no scenario kills is a **gap**: a defect
the suite would let through.

`--quick` runs, per quirk, only the scenarios the recorded matrix (`scenarios/kill_matrix.json`,
written by `--write`) names as its killers and stops at the first kill, so the check that
every quirk is still caught takes a minute instead of a suite per quirk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hil.errors import HilError, ScenarioLoadError
from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import discover, load_scenario
from hil.scenario.model import Scenario, ServerSpec
from hil.targets.base import ChosenTarget
from protocol.device_model import QUIRK_SPECS, QUIRKS
from protocol.server_quirks import QUIRKS as SERVER_QUIRKS

SERVER, DEVICE = "server", "device"
KILL_MATRIX: Final = Path("scenarios/kill_matrix.json")
QUICK_KILLERS: Final = 2  # --quick tries a quirk's first recorded killers, up to this many
# A token no server issued, for the device quirk that presents a given token (SPEC App. C).
FORGED_TOKEN: Final = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZWRkeSJ9.Zm9yZ2Vk"  # noqa: S105 (forged)


@dataclass(frozen=True)
class Mutant:
    """One quirk switched on in every scenario."""

    side: str  # SERVER | DEVICE
    name: str
    section: str
    value: str | None = None  # a device quirk's value (SPEC Appendix C `value`)

    @property
    def label(self) -> str:
        return f"{self.side}:{self.name}"

    def applies_to(self, scenario: Scenario) -> bool:
        """Server quirks need the development profile (SPEC Appendix B)."""
        return self.side == DEVICE or scenario.server.profile == "development"

    def apply(self, scenario: Scenario) -> Scenario:
        if self.side == SERVER:
            spec = scenario.server
            quirks = (*spec.quirks, self.name) if self.name not in spec.quirks else spec.quirks
            server: ServerSpec = dataclasses.replace(spec, quirks=quirks)
            return dataclasses.replace(scenario, server=server)
        device = dict(scenario.device)
        item: object = {self.name: self.value} if self.value is not None else self.name
        device["quirks"] = [*_as_list(device.get("quirks")), item]
        return dataclasses.replace(scenario, device=device)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def all_mutants() -> list[Mutant]:
    """Every quirk of both vocabularies, server first, in their definition order."""
    mutants = [Mutant(SERVER, q.name, q.section) for q in SERVER_QUIRKS]
    for quirk in QUIRKS:
        spec = QUIRK_SPECS[quirk]
        value = (spec.example or FORGED_TOKEN) if spec.value is not None else None
        mutants.append(Mutant(DEVICE, quirk, spec.spec, value))
    return mutants


@dataclass
class MutantOutcome:
    mutant: Mutant
    killed_by: list[str] = field(default_factory=list)  # scenario names that failed
    survived: list[str] = field(default_factory=list)  # passed with the quirk on
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def gap(self) -> bool:
        return not self.killed_by


Runner = Callable[[Scenario, Path], ScenarioResult]


def run_mutant(
    mutant: Mutant,
    scenarios: Sequence[Scenario],
    *,
    baseline: Mapping[str, Status],
    run: Runner,
    artifacts: Path,
    first_kill: bool = False,
) -> MutantOutcome:
    """Run every scenario that passed at the baseline with `mutant` on."""
    outcome = MutantOutcome(mutant)
    for scenario in scenarios:
        if baseline.get(scenario.name) is not Status.PASSED or not mutant.applies_to(scenario):
            continue
        result = run(mutant.apply(scenario), artifacts / mutant.label.replace(":", "-"))
        if result.status is Status.FAILED:
            outcome.killed_by.append(scenario.name)
            outcome.reasons[scenario.name] = result.reason
            if first_kill:
                break
        elif result.status is Status.PASSED:
            outcome.survived.append(scenario.name)
    return outcome


def render_matrix(outcomes: Iterable[MutantOutcome], *, width: int = 110) -> str:
    """One line per quirk: how many scenarios killed it, which, or GAP."""
    lines = [f"{'quirk':<38} {'SPEC':<10} {'kills':>5}  scenarios that fail with it"]
    gaps = 0
    for o in outcomes:
        killers = ", ".join(o.killed_by) if o.killed_by else "GAP: no scenario fails"
        gaps += o.gap
        row = f"{o.mutant.label:<38} {o.mutant.section:<10} {len(o.killed_by):>5}  {killers}"
        lines.append(row if len(row) <= width else row[: width - 1] + "…")
    total = len(lines) - 1
    lines.append(f"{total} quirks: {total - gaps} caught, {gaps} gap(s)")
    return "\n".join(lines)


def load_matrix(path: Path) -> dict[str, list[str]]:
    """The recorded killers per mutant label (empty when there is no file)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(k): [str(s) for s in v] for k, v in doc.get("killers", {}).items()}


def write_matrix(path: Path, outcomes: Iterable[MutantOutcome]) -> None:
    doc = {
        "description": "teddy-hil selftest: the scenarios that fail with each quirk on "
        "(`teddy-hil selftest --write` rewrites this file; `--quick` reads it)",
        "killers": {o.mutant.label: o.killed_by for o in outcomes},
    }
    path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def quick_order(scenarios: Sequence[Scenario], killers: Sequence[str]) -> list[Scenario]:
    """The recorded killers, in their recorded order (the others are not run in --quick)."""
    by_name = {s.name: s for s in scenarios}
    return [by_name[name] for name in killers if name in by_name]


# --- running it -------------------------------------------------------------------------


@dataclass(frozen=True)
class SelftestRequest:
    """What `teddy-hil selftest` was asked: scenarios, target, which quirks, how."""

    paths: tuple[Path, ...]
    target: ChosenTarget
    artifacts: Path
    only: tuple[str, ...] = ()  # mutant labels or names; empty: every quirk
    quick: bool = False
    matrix: Path = KILL_MATRIX
    workers: int = 2
    keep_artifacts: bool = False


def chosen_mutants(only: Sequence[str]) -> list[Mutant]:
    mutants = all_mutants()
    if not only:
        return mutants
    picked = [m for m in mutants if m.label in only or m.name in only]
    unknown = sorted(set(only) - {m.label for m in picked} - {m.name for m in picked})
    if unknown:
        names = ", ".join(m.label for m in mutants)
        raise HilError(f"unknown quirk(s) {', '.join(unknown)}; quirks: {names}")
    return picked


def _load(paths: Sequence[Path]) -> list[Scenario]:
    scenarios = []
    for path in discover(paths):
        try:
            scenarios.append(load_scenario(path))
        except ScenarioLoadError as exc:
            raise HilError(f"selftest needs a valid suite: {exc}") from exc
    return scenarios


def _runner(target: ChosenTarget, keep: bool) -> Runner:
    def run(scenario: Scenario, folder: Path) -> ScenarioResult:
        where = folder / scenario.path.stem
        result = asyncio.run(
            run_scenario(scenario, target=target, artifact_dir=where, pipeline=shared_pipeline())
        )
        if not keep:  # a suite per quirk: keep what says what happened, not the audio
            for path in sorted(where.rglob("*"), reverse=True):
                if path.name not in ("result.json", "console.log") and path != where:
                    path.unlink() if path.is_file() else shutil.rmtree(path, ignore_errors=True)
        return result

    return run


def _baseline_job(request: SelftestRequest, name: str) -> tuple[str, Status, str]:
    scenario = next(s for s in _load(request.paths) if s.name == name)
    result = _runner(request.target, request.keep_artifacts)(
        scenario, request.artifacts / "baseline"
    )
    return name, result.status, result.reason


def _mutant_job(
    request: SelftestRequest, mutant: Mutant, baseline: Mapping[str, Status]
) -> MutantOutcome:
    scenarios = _load(request.paths)
    if request.quick:
        recorded = load_matrix(request.matrix).get(mutant.label, [])
        scenarios = quick_order(scenarios, recorded[:QUICK_KILLERS])
    return run_mutant(
        mutant,
        scenarios,
        baseline=baseline,
        run=_runner(request.target, request.keep_artifacts),
        artifacts=request.artifacts,
        first_kill=request.quick,
    )


@dataclass
class SelftestResult:
    baseline: dict[str, Status]
    broken_baseline: dict[str, str]  # scenario -> why it did not pass without any quirk
    outcomes: list[MutantOutcome]

    @property
    def gaps(self) -> list[Mutant]:
        return [o.mutant for o in self.outcomes if o.gap]


def run_selftest(
    request: SelftestRequest, *, on_outcome: Callable[[MutantOutcome], None] | None = None
) -> SelftestResult:
    """The baseline, then every chosen mutant, `request.workers` processes at a time."""
    mutants = chosen_mutants(request.only)
    scenarios = _load(request.paths)
    if request.quick:  # only the recorded killers need a baseline
        recorded = load_matrix(request.matrix)
        # The first two recorded killers of each quirk: one kill is enough (first_kill).
        wanted = {name for m in mutants for name in recorded.get(m.label, [])[:QUICK_KILLERS]}
        scenarios = [s for s in scenarios if s.name in wanted]
    spawn = multiprocessing.get_context("spawn")  # each worker builds its own servers
    with ProcessPoolExecutor(max_workers=max(1, request.workers), mp_context=spawn) as pool:
        runs = list(
            pool.map(_baseline_job, [request] * len(scenarios), [s.name for s in scenarios])
        )
        baseline = {name: status for name, status, _ in runs}
        broken = {name: why for name, status, why in runs if status is not Status.PASSED}
        futures = [pool.submit(_mutant_job, request, m, baseline) for m in mutants]
        outcomes = []
        for future in futures:
            outcome = future.result()
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return SelftestResult(baseline, broken, outcomes)
