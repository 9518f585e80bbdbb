"""Reports: progress lines, the summary table, JUnit XML, `-k` selection, artifact names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hil.errors import HilError
from hil.junit import junit_xml
from hil.report import progress_line, summary
from hil.result import ScenarioResult, Status
from hil.runner.session import artifact_name
from hil.select import keyword_matches

pytestmark = pytest.mark.unit


def results() -> list[ScenarioResult]:
    return [
        ScenarioResult(
            "claim-happy", Path("scenarios/claim/happy.yaml"), Status.PASSED, duration_s=1.234
        ),
        ScenarioResult(
            "ota-rollback",
            Path("scenarios/ota/rollback.yaml"),
            Status.FAILED,
            reason="no ota.rollback matching within 10s (step 9 `expect` at x.yaml:20)",
            detail="step 9 `expect` at x.yaml:20: timed out after 10s\n  expected: <&> stuff",
            duration_s=10.5,
            artifact_dir=Path("artifacts/run/ota/rollback"),
        ),
        ScenarioResult(
            "mic",
            Path("scenarios/streaming/mic.yaml"),
            Status.SKIPPED,
            reason="needs capability 'audio_in'",
        ),
    ]


def test_progress_line() -> None:
    first, second, _ = results()
    assert progress_line(first, index=1, total=12) == (
        "[ 1/12] PASS claim-happy (scenarios/claim/happy.yaml) 1.23s"
    )
    assert progress_line(second, index=2, total=12).startswith(
        "[ 2/12] FAIL ota-rollback (scenarios/ota/rollback.yaml) 10.50s: no ota.rollback"
    )


def test_summary_table_failures_and_totals() -> None:
    text = summary(results(), duration_s=12.0, deselected=2)
    lines = text.splitlines()
    assert lines[0].split() == ["scenario", "result", "time", "reason"]
    assert lines[2].split() == ["claim-happy", "passed", "1.23s"]
    assert lines[3].split()[:5] == ["ota-rollback", "failed", "10.50s", "no", "ota.rollback"]
    assert "=== FAILED ota-rollback ===" in text
    assert "timed out after 10s" in text and "artifacts: artifacts/run/ota/rollback" in text
    assert lines[-1] == "1 passed, 1 failed, 1 skipped, 2 deselected in 12.00s"


def test_junit_xml_parses_with_counts_and_messages() -> None:
    root = ET.fromstring(junit_xml(results(), duration_s=12.0))  # noqa: S314 - our own output
    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["claim-happy", "ota-rollback", "mic"]
    assert cases[0].get("classname") == "scenarios.claim"
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message", "").startswith("no ota.rollback")
    assert "expected: <&> stuff" in (failure.text or "")
    skipped = cases[2].find("skipped")
    assert skipped is not None and skipped.get("message") == "needs capability 'audio_in'"


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ("claim", True),
        ("CLAIM and smoke", True),
        ("claim and not smoke", False),
        ("ota or (smoke and happy)", True),
        ("not (claim or ota)", False),
        ("", True),
    ],
)
def test_keyword_expressions(expression: str, selected: bool) -> None:
    names = ["scenarios/claim/happy.yaml", "claim-happy", "smoke"]
    assert keyword_matches(expression, names) is selected


@pytest.mark.parametrize("expression", ["claim and", "(claim", "and x", "a )"])
def test_bad_keyword_expressions(expression: str) -> None:
    with pytest.raises(HilError, match="-k"):
        keyword_matches(expression, ["x"])


def test_artifact_names_follow_the_scenario_tree() -> None:
    assert artifact_name(Path("/repo/scenarios/claim/happy.yaml")) == "claim/happy"
    assert artifact_name(Path("elsewhere/x.yaml")) == "x"
