"""Fixtures for the harness tests: scenario files in a tmp `scenarios/` tree, the fake target."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hil.result import ScenarioResult
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.steps import registry
from hil.steps.kind import StepKind
from hil.targets.registry import choose
from server.speech.pipeline import SpeechPipeline
from tests.hil import beep_kind
from tests.hil.scripted_target import Calls, Script, ScriptedTarget
from tests.server.helpers import scripted_pipeline

WriteFile = Callable[[str, str], Path]
REPO = Path(__file__).resolve().parents[2]


async def run_on_emulator(
    name: str, artifacts: Path, *, quirks: tuple[str, ...] = ()
) -> ScenarioResult:
    """Run the repository's `scenarios/<name>` on the emulator with the real speech pipeline,
    its server with the legacy `quirks` (SPEC Appendix B) added to the scenario's own."""
    scenario = load_scenario(REPO / "scenarios" / name)
    if quirks:
        server = dataclasses.replace(scenario.server, quirks=(*scenario.server.quirks, *quirks))
        scenario = dataclasses.replace(scenario, server=server)
    return await run_scenario(
        scenario,
        target=choose("emulator"),
        artifact_dir=artifacts,
        pipeline=shared_pipeline(),
    )


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    root = tmp_path / "scenarios"
    (root / "common").mkdir(parents=True)
    return root


@pytest.fixture
def write(scenario_dir: Path) -> WriteFile:
    """write("claim/x.yaml", yaml_text) -> the path (text is dedented)."""

    def write_file(relative: str, text: str) -> Path:
        path = scenario_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write_file


@pytest.fixture
def scripted() -> Iterator[Calls]:
    """A fresh default script for ScriptedTarget; the calls it records."""
    calls = ScriptedTarget.configure(Script())
    yield calls
    ScriptedTarget.configure(Script())


@pytest.fixture(scope="session")
def pipeline() -> SpeechPipeline:
    return scripted_pipeline()


@pytest.fixture
def registered_beep() -> Iterator[StepKind[beep_kind.Beep]]:
    """The test-only `beep` kind, registered for one test and removed afterwards."""
    registry.register(beep_kind.KIND)
    try:
        yield beep_kind.KIND
    finally:
        registry.unregister(beep_kind.KIND.name)
