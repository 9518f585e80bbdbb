"""A scenario's `forbid:` list: refused when malformed, checked over the whole run.

Each forbidden thing (a device event, a server event, a wire record) fails the run at
its first appearance, whichever step is running, with the entry's file:line, its
`because` and the record that matched; a forbid entry that never matches lets the run
pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ScenarioLoadError
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.registry import choose

REPO = Path(__file__).resolve().parents[2]
HAPPY = (REPO / "scenarios" / "claim" / "happy.yaml").read_text()


def with_head(tmp_path: Path, head: str, body: str = HAPPY) -> Path:
    """claim/happy with `head` (top-level keys) added, in a tmp scenarios/ tree."""
    root = tmp_path / "scenarios"
    (root / "common").mkdir(parents=True)
    common = REPO / "scenarios" / "common" / "boot_and_claim.yaml"
    (root / "common" / "boot_and_claim.yaml").write_text(common.read_text())
    path = root / "x.yaml"
    path.write_text(body.replace("steps:\n", head + "steps:\n", 1))
    return path


@pytest.mark.unit
@pytest.mark.parametrize(
    ("head", "message"),
    [
        ("forbid: [{because: nothing}]\n", "needs event, server_event, request, response or ws"),
        ("forbid: [{event: claim.fail, ws: {type: error}}]\n", "not both"),
        ("forbid: [{ws: {type: error}, match: {a: b}}]\n", "`match` goes with an event"),
        ("forbid: [{event: claim.fail, match: {code: '('}}]\n", "bad regular expression"),
        ("forbid: [{event: no.such.event}]\n", "no.such.event"),
        ("exempt: {no_such_rule: because}\n", "no_such_rule"),
        ("exempt: {no_5xx: '   '}\n", "no_5xx"),
    ],
)
def test_malformed_rules_are_load_errors(tmp_path: Path, head: str, message: str) -> None:
    with pytest.raises(ScenarioLoadError) as info:
        load_scenario(with_head(tmp_path, head))
    text = str(info.value)
    assert message in text and "x.yaml:" in text, text


@pytest.mark.emu
@pytest.mark.parametrize(
    ("head", "reason"),
    [
        ("forbid: [{event: config.ok, because: config is served}]\n", "device event config.ok"),
        ("forbid: [{server_event: claim.ok}]\n", "server event claim.ok"),
        (
            "forbid: [{response: {path: /api/v1/esp32/config, status: 200}}]\n",
            "a response on the wire",
        ),
    ],
)
async def test_a_forbidden_thing_fails_the_run_at_once(
    tmp_path: Path, head: str, reason: str
) -> None:
    path = with_head(tmp_path, head)
    result = await run_scenario(
        load_scenario(path),
        target=choose("emulator"),
        artifact_dir=tmp_path / "a",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.FAILED
    assert result.reason.startswith(f"forbidden {reason}"), result.reason
    assert "x.yaml:" in result.detail  # where the entry is written
    statuses = [s.status for s in result.steps]
    # the step running when it happened fails; the rest of the scenario does not run
    assert statuses.count("failed") == 1 and statuses[-1] == "not_run", statuses


@pytest.mark.emu
async def test_forbid_entries_that_never_match_let_it_pass(tmp_path: Path) -> None:
    head = "forbid:\n  - {event: claim.fail}\n  - {ws: {dir: down, type: error}}\n"
    result = await run_scenario(
        load_scenario(with_head(tmp_path, head)),
        target=choose("emulator"),
        artifact_dir=tmp_path / "a",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail
