"""`teddy-hil selftest`: mutants from both quirk vocabularies, what counts as a kill, the
matrix and its gaps; the recorded matrix names a killer for every quirk; the quick check
(a fast subset of the kill matrix) runs for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.cli import main
from hil.result import ScenarioResult, Status
from hil.scenario.loader import discover, load_scenario
from hil.scenario.model import Scenario
from hil.selftest import (
    DEVICE,
    KILL_MATRIX,
    SERVER,
    MutantOutcome,
    all_mutants,
    load_matrix,
    render_matrix,
    run_mutant,
)
from protocol.device_model import QUIRKS
from protocol.server_quirks import QUIRKS as SERVER_QUIRKS
from tests.hil.conftest import REPO


def _scenario(name: str) -> Scenario:
    return load_scenario(REPO / "scenarios" / name)


@pytest.mark.unit
def test_every_quirk_of_both_vocabularies_is_a_mutant() -> None:
    labels = {m.label for m in all_mutants()}
    assert labels == {f"server:{q.name}" for q in SERVER_QUIRKS} | {f"device:{q}" for q in QUIRKS}


@pytest.mark.unit
def test_a_mutant_switches_its_quirk_on_in_the_scenario() -> None:
    by_label = {m.label: m for m in all_mutants()}
    happy = _scenario("claim/happy.yaml")
    server = by_label["server:no_suffix_range"].apply(happy)
    assert server.server.quirks == ("no_suffix_range",) and happy.server.quirks == ()
    token = by_label["device:present_token"]
    assert token.side == DEVICE and token.value  # a quirk with a value gets one
    device = token.apply(by_label["device:reuse_nonce"].apply(happy))
    assert device.device["quirks"] == ["reuse_nonce", {"present_token": token.value}]
    production = _scenario("claim/provisioned_production.yaml")
    assert not by_label["server:no_suffix_range"].applies_to(production)  # Appendix B
    assert by_label["device:reuse_nonce"].applies_to(production)


@pytest.mark.unit
def test_a_kill_is_a_baseline_pass_that_fails_with_the_quirk(tmp_path: Path) -> None:
    mutant = next(m for m in all_mutants() if m.side == SERVER)
    names = ["claim/happy.yaml", "config/etag_304.yaml", "streaming/silence.yaml"]
    scenarios = [_scenario(n) for n in names]
    verdicts = {
        "claim-happy": Status.FAILED,
        "config-etag-304": Status.PASSED,
        "streaming-silence": Status.FAILED,
    }
    ran: list[str] = []

    def fake_run(scenario: Scenario, folder: Path) -> ScenarioResult:  # the runner's place
        assert mutant.name in scenario.server.quirks  # it runs the mutated scenario
        ran.append(scenario.name)
        return ScenarioResult(scenario.name, scenario.path, verdicts[scenario.name], reason="r")

    baseline = {s.name: Status.PASSED for s in scenarios}
    baseline["streaming-silence"] = Status.FAILED  # already failing: not a kill
    outcome = run_mutant(mutant, scenarios, baseline=baseline, run=fake_run, artifacts=tmp_path)
    assert outcome.killed_by == ["claim-happy"] and outcome.survived == ["config-etag-304"]
    assert ran == ["claim-happy", "config-etag-304"]
    ran.clear()
    first = run_mutant(
        mutant, scenarios, baseline=baseline, run=fake_run, artifacts=tmp_path, first_kill=True
    )
    assert first.killed_by == ["claim-happy"] and ran == ["claim-happy"]


@pytest.mark.unit
def test_the_matrix_names_gaps() -> None:
    a, b = all_mutants()[:2]
    text = render_matrix([MutantOutcome(a, killed_by=["x", "y"]), MutantOutcome(b)])
    assert f"{a.label}" in text and " 2  x, y" in text
    assert "GAP: no scenario fails" in text and text.endswith("2 quirks: 1 caught, 1 gap(s)")


@pytest.mark.unit
def test_the_recorded_matrix_has_a_killer_for_every_quirk() -> None:
    recorded = load_matrix(REPO / KILL_MATRIX)
    names = {load_scenario(p).name for p in discover([REPO / "scenarios"])}
    for mutant in all_mutants():
        killers = recorded.get(mutant.label)
        assert killers, f"{mutant.label}: no recorded killer; run teddy-hil selftest --write"
        assert set(killers) <= names, f"{mutant.label}: unknown scenarios {set(killers) - names}"


@pytest.mark.emu
def test_quick_selftest_catches_and_reports_a_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quirks = ["--quirk", "no_suffix_range", "--quirk", "device:ignore_etag"]
    args = ["selftest", str(REPO / "scenarios"), "--quick", "--artifacts", str(tmp_path), *quirks]
    assert main([*args, "--matrix", str(REPO / KILL_MATRIX)], env={}) == 0
    assert "2 quirks: 2 caught, 0 gap(s)" in capsys.readouterr().out
    # A matrix naming a scenario that does not notice the quirk: the quick check says GAP.
    wrong = tmp_path / "wrong.json"
    killers = {"server:no_suffix_range": ["claim-happy"], "device:ignore_etag": ["claim-happy"]}
    wrong.write_text(json.dumps({"killers": killers}), encoding="utf-8")
    assert main([*args, "--matrix", str(wrong)], env={}) == 1
    out = capsys.readouterr().out
    assert "server:no_suffix_range" in out and "GAP: no scenario fails" in out
