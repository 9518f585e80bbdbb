"""`teddy-hil conformance`: the security and conformance packs against a server, by SPEC section.

Runs the cases, every scenario that declares the SPEC sections it holds a server to
(`spec: [§2.4, ...]`: all of `scenarios/security/` and `scenarios/conformance/`, and the
scenarios elsewhere that catch a defect of one section), or the paths given, like `run`; then
sorts the outcome by the SPEC sections each scenario declares (`spec: [§2.4, ...]`): per
section, which cases held, which broke (with the step that broke and why) and which were
skipped (with the reason: mostly what the server's admin API does not offer, SPEC §11.6).
A scenario counts under every section it names; one without `spec:` under "other".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import protocol
from hil.errors import ScenarioLoadError
from hil.result import ScenarioResult, Status
from hil.scenario.loader import discover, load_scenario
from hil.scenario.model import Scenario

PACKS: Final = (Path("scenarios/security"), Path("scenarios/conformance"))
SUITE: Final = Path("scenarios")
OTHER: Final = "other"
HELD, BROKE, SKIPPED = "held", "broke", "skipped"
_HEADING = re.compile(r"#{2,3} (?:(\d+(?:\.\d+)?)\.? |Appendix ([A-Z]): )(.+)")


def cases(root: Path = SUITE) -> tuple[Path, ...]:
    """The scenario files under `root` that declare `spec:` (a file that fails to load too:
    the run reports it)."""
    found = []
    for path in discover([root]):
        try:
            if load_scenario(path).spec:
                found.append(path)
        except ScenarioLoadError:
            found.append(path)
    return tuple(found)


def spec_titles(spec: Path | None = None) -> dict[str, str]:
    """`§2.4` -> "Check order" for every numbered heading of SPEC.md (empty if not shipped)."""
    path = spec or Path(protocol.__file__).with_name("SPEC.md")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    titles: dict[str, str] = {}
    for line in text.splitlines():
        found = _HEADING.fullmatch(line)
        if found:
            titles["§" + (found.group(1) or found.group(2))] = found.group(3).strip()
    return titles


def _order(section: str) -> tuple[int, ...]:
    if section == OTHER:
        return (10_000,)
    body = section.removeprefix("§")
    if body.isalpha():
        return (1_000 + ord(body),)
    return tuple(int(part) for part in body.split("."))


def verdict(result: ScenarioResult) -> str:
    if result.status is Status.PASSED:
        return HELD
    return SKIPPED if result.status is Status.SKIPPED else BROKE


@dataclass
class SectionReport:
    section: str
    title: str
    cases: list[ScenarioResult] = field(default_factory=list)

    def count(self, what: str) -> int:
        return sum(1 for r in self.cases if verdict(r) == what)


def by_section(
    results: Iterable[ScenarioResult],
    scenarios: Mapping[Path, Scenario],
    titles: Mapping[str, str],
) -> list[SectionReport]:
    """The results grouped under every SPEC section their scenario declares, in SPEC order."""
    sections: dict[str, SectionReport] = {}
    for result in results:
        scenario = scenarios.get(result.path)
        for section in (scenario.spec if scenario else ()) or (OTHER,):
            report = sections.setdefault(section, SectionReport(section, titles.get(section, "")))
            report.cases.append(result)
    return [sections[s] for s in sorted(sections, key=_order)]


def render(reports: Sequence[SectionReport], *, width: int = 100) -> str:
    """One table per section: case, verdict, and for a broken or skipped case why."""
    lines: list[str] = []
    for report in reports:
        head = f"{report.section} {report.title}".rstrip()
        tally = ", ".join(
            f"{report.count(what)} {what}" for what in (HELD, BROKE, SKIPPED) if report.count(what)
        )
        lines += [f"{head}  ({tally})"]
        for result in report.cases:
            what = verdict(result)
            why = "" if what == HELD else f"  {result.reason}"
            row = f"  {what:<7}  {result.name}{why}"
            lines.append(row if len(row) <= width else row[: width - 1] + "…")
        lines.append("")
    totals = {what: 0 for what in (HELD, BROKE, SKIPPED)}
    seen: set[Path] = set()
    for report in reports:
        for result in report.cases:
            if result.path not in seen:
                seen.add(result.path)
                totals[verdict(result)] += 1
    lines.append(
        f"{len(seen)} cases: {totals[HELD]} held, {totals[BROKE]} broke, {totals[SKIPPED]} skipped"
    )
    return "\n".join(lines)
