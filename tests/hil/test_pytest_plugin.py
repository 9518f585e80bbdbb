"""The pytest plugin: scenario files become items; failures read like `teddy-hil run`."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.emu

REPO = Path(__file__).resolve().parents[2]
CONFTEST = """
import tests.hil.scripted_target  # registers the `scripted` stand-in target
from hil.runner import server_setup
from tests.server.helpers import scripted_pipeline

pytest_plugins = ["hil.pytest_plugin"]
server_setup._pipeline = scripted_pipeline()
"""
HEAD = "version: 1\ndescription: d\n"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    from hil.runner import server_setup

    # The in-process pytester run's conftest swaps in a scripted pipeline; put the real one
    # back afterwards so later scenario items in this worker recognise real speech.
    monkeypatch.setattr(server_setup, "_pipeline", server_setup._pipeline)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.syspath_prepend(str(REPO))
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    files = {
        "scenarios/claim/happy.yaml": HEAD + "name: happy\ntags: [smoke]\nsteps:\n"
        "  - expect: ws.open\n",
        "scenarios/claim/also.yaml": HEAD + "name: also\nsteps:\n  - expect: claim.ok\n",
        "scenarios/ota/late.yaml": HEAD + "name: late\nsteps:\n"
        "  - expect: {event: ota.applied, timeout: 100ms}\n",
        "scenarios/common/group.yaml": "version: 1\nsteps:\n  - expect: boot\n",
        "scenarios/bad/typo.yaml": HEAD + "name: typo\nsteps:\n  - exepct: boot\n",
        "scenarios/mic/talk.yaml": HEAD + "name: talk\nsteps:\n  - talk: hello\n",
        "config/not_a_scenario.yaml": "whatever: 1\n",
    }
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pytester


def test_collects_scenarios_but_not_step_groups(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "scenarios/bad/typo.yaml::typo",
            "scenarios/claim/also.yaml::also",
            "scenarios/claim/happy.yaml::happy",
            "scenarios/mic/talk.yaml::talk",
            "scenarios/ota/late.yaml::late",
            "5 tests collected*",
        ]
    )
    assert "group" not in result.stdout.str() and "not_a_scenario" not in result.stdout.str()


def test_runs_with_the_cli_failure_report(project: pytest.Pytester, tmp_path: Path) -> None:
    artifacts = tmp_path / "kept"
    result = project.runpytest_inprocess(
        "--target", "scripted-mute", "--artifacts", str(artifacts), "-rs"
    )
    result.assert_outcomes(passed=2, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*typo (scenarios/bad/typo.yaml) failed: invalid scenario:",
            "*unknown step 'exepct' at *typo.yaml:5*",
            "*late (scenarios/ota/late.yaml) failed: step 1 `expect` at *late.yaml:5: "
            "timed out after 100ms",
            "*expected: device event ota.applied",
            "*full log: *kept/ota/late/console.log",
            "SKIPPED ?1? scenarios/mic/talk.yaml: needs capability 'audio_in' "
            "(step 1 `talk` at *talk.yaml:5)*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert (artifacts / "claim" / "happy" / "result.json").is_file()


def test_emu_marker_follows_the_target_and_tags_select(project: pytest.Pytester) -> None:
    emulator = project.runpytest_inprocess("--collect-only", "-q", "-m", "emu")
    emulator.stdout.fnmatch_lines(["5 tests collected*"])
    scripted = project.runpytest_inprocess("--collect-only", "-q", "-m", "emu", "--target", "x")
    scripted.stdout.fnmatch_lines(["no tests collected (5 deselected)*"])
    smoke = project.runpytest_inprocess("--collect-only", "-q", "-k", "smoke")
    smoke.stdout.fnmatch_lines(["scenarios/claim/happy.yaml::happy", "1/5 tests collected*"])


def test_works_under_xdist(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-n", "2", "--target", "scripted", "scenarios/claim")
    result.assert_outcomes(passed=2)
