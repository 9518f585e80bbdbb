"""`teddy-hil conformance`: the packs by SPEC section; every pack scenario names real sections;
a server that breaks a section shows up under it, with the step that broke."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.cli import main
from hil.conformance import PACKS, by_section, cases, render, spec_titles
from hil.result import ScenarioResult, Status
from hil.scenario.loader import discover, load_scenario
from protocol.server_quirks import Quirks
from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from tests.hil.conftest import REPO

TOKEN = "harness-token-for-tests"


def _packs() -> list[Path]:
    return discover([REPO / p for p in PACKS])


@pytest.mark.unit
def test_every_pack_scenario_names_sections_spec_has() -> None:
    titles = spec_titles()
    assert titles["§2.4"] == "Check order" and titles["§11"] == "Harness admin API"
    assert titles["§A"].startswith("original defects")
    for path in _packs():
        scenario = load_scenario(path)
        assert scenario.spec, f"{path}: a pack scenario says which SPEC sections it checks"
    for path in cases(REPO / "scenarios"):
        unknown = [s for s in load_scenario(path).spec if s not in titles]
        assert not unknown, f"{path}: no such SPEC section {unknown}"
    assert set(_packs()) <= set(cases(REPO / "scenarios"))


@pytest.mark.unit
def test_cases_sort_under_each_section_in_spec_order(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    c = tmp_path / "c.yaml"
    head = "version: 1\nname: {}\ndescription: d\n{}steps:\n  - expect: boot\n"
    a.write_text(head.format("a", "spec: [§6.1, §2.4]\n"))
    b.write_text(head.format("b", "spec: [§11]\n"))
    c.write_text(head.format("c", ""))
    scenarios = {p: load_scenario(p) for p in (a, b, c)}
    results = [
        ScenarioResult("a", a, Status.FAILED, reason="status: 200 is not 403 (step 3)"),
        ScenarioResult("b", b, Status.SKIPPED, reason="needs capability 'server_control'"),
        ScenarioResult("c", c, Status.PASSED),
    ]
    reports = by_section(results, scenarios, spec_titles())
    assert [r.section for r in reports] == ["§2.4", "§6.1", "§11", "other"]
    text = render(reports)
    assert "§2.4 Check order  (1 broke)\n  broke    a  status: 200 is not 403 (step 3)" in text
    assert "§11 Harness admin API  (1 skipped)" in text
    assert text.endswith("3 cases: 1 held, 1 broke, 1 skipped")


@pytest.mark.emu
def test_the_reference_server_holds_and_a_legacy_one_breaks_its_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = str(REPO / "scenarios/conformance/config_etag.yaml")
    junit = tmp_path / "c.xml"
    args = ["conformance", case, "--artifacts", str(tmp_path), "--junit", str(junit)]
    assert main(args, env={}) == 0
    assert "§4.2 ETag & conditional requests  (1 held)" in capsys.readouterr().out
    assert junit.is_file()
    # A separately started server with the original's If-None-Match (defect 17).
    quirks = Quirks.named(["etag_string_compare"])
    settings = ServerSettings(data_dir=tmp_path / "legacy", harness_token=TOKEN, quirks=quirks)
    with EmbeddedServer(settings) as legacy:
        server = ["--server", legacy.base_url, "--harness-token", TOKEN]
        assert main([*args, *server], env={}) == 1
    out = capsys.readouterr().out
    assert "§4.2 ETag & conditional requests  (1 broke)" in out
    assert "broke    conformance-config-etag  invariant not_modified_headers (SPEC §4.2)" in out
