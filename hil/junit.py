"""JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters).

One `<testsuite name="teddy-hil">`; one `<testcase>` per scenario with
`classname` = the scenario's folder (`scenarios.claim`) and `name` = its name.
Failures carry the one-line reason as `message` and the full report as text; skips
carry their reason; `<system-out>` points at the artifact folder.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from hil.errors import display_path
from hil.result import ScenarioResult, Status


def _classname(path: Path) -> str:
    parent = Path(display_path(path)).parent
    return ".".join(parent.parts) or "scenarios"


def junit_xml(results: Sequence[ScenarioResult], *, duration_s: float) -> str:
    suite = ET.Element(
        "testsuite",
        name="teddy-hil",
        tests=str(len(results)),
        failures=str(sum(r.status is Status.FAILED for r in results)),
        skipped=str(sum(r.status is Status.SKIPPED for r in results)),
        errors="0",
        time=f"{duration_s:.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_classname(result.path),
            name=result.name,
            file=display_path(result.path),
            time=f"{result.duration_s:.3f}",
        )
        if result.status is Status.FAILED:
            failure = ET.SubElement(case, "failure", message=result.reason, type="ScenarioFailed")
            failure.text = result.detail or result.reason
        elif result.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=result.reason)
        if result.artifact_dir is not None:
            out = ET.SubElement(case, "system-out")
            out.text = f"artifacts: {display_path(result.artifact_dir)}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: Path, results: Sequence[ScenarioResult], *, duration_s: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(results, duration_s=duration_s), encoding="utf-8")
