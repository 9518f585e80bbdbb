"""Loading scenarios: schema errors name file, line and the valid alternatives."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ScenarioLoadError
from hil.scenario.loader import discover, load_scenario, validate_paths
from hil.steps.kinds.console import Console
from hil.steps.kinds.expect import Expect
from tests.hil.conftest import WriteFile

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
HEAD = "version: 1\nname: t\ndescription: d\n"


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioLoadError) as info:
        load_scenario(path)
    return [p.message for p in info.value.problems]


def test_the_example_scenarios_and_step_groups_are_valid() -> None:
    files = discover([REPO / "scenarios"], groups=True)
    assert any(f.name == "boot_and_claim.yaml" for f in files)
    assert validate_paths(files) == []
    scenarios = [load_scenario(f) for f in discover([REPO / "scenarios"])]
    assert {"claim-happy", "streaming-one-turn", "ota-newer-applied"} <= {s.name for s in scenarios}


def test_misspelt_step_names_file_line_and_valid_steps(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - expect: ws.open\n  - exepct: ws.open\n")
    [message] = problems(path)
    assert message.startswith(f"unknown step 'exepct' at {path}:6; valid steps: console, talk")
    assert "expect_server" in message and "(did you mean 'expect'?)" in message


def test_malformed_yaml_gives_file_line_and_column(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - expect: {event: boot\n  - console: status\n")
    [message] = problems(path)
    assert message.startswith(f"{path}:6:")
    assert "malformed YAML" in message


def test_duplicate_keys_are_reported(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "name: again\nsteps:\n  - expect: boot\n")
    assert problems(path) == [f"duplicate key 'name' at {path}:4 (first written at line 2)"]


def test_a_written_key_overrides_a_merged_one(write: WriteFile) -> None:
    # YAML merge keys: `{<<: *base, key: other}` is a variation of base, not a duplicate.
    path = write(
        "x.yaml",
        HEAD
        + "steps:\n"
        + "  - expect: {event: claim.ok, match: &m {child_id: a, age: 7}}\n"
        + "  - expect: {event: claim.ok, match: {<<: *m, age: 9}}\n"
        + "  - expect: {event: claim.ok, match: {<<: *m, age: 1, age: 2}}\n",
    )
    assert problems(path) == [f"duplicate key 'age' at {path}:7 (first written at line 7)"]
    fixed = write("y.yaml", path.read_text().rsplit("\n  - ", 1)[0] + "\n")
    matches = [step.action.pattern.match for step in load_scenario(fixed).steps]  # type: ignore[attr-defined]
    assert matches == [{"child_id": "a", "age": 7}, {"child_id": "a", "age": 9}]


def test_every_problem_of_a_file_in_one_round(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        """
        version: 1
        name: t
        description: d
        devise: {}
        server: {profile: dev}
        steps:
          - expect: {event: ws.opn, timeout: 10 s}
          - console: "exepct foo"
          - expect_line: "(unclosed"
          - talk: {phrase: hi, clip: hello}
          - expect: boot
            console: status
          - publish: {version: 1.0}
          - console: "set child_name ${nobody}"
        """,
    )
    found = problems(path)
    expected = [
        f"unknown key 'devise' in the document at {path}:4",
        f"'dev' is not valid for server.profile at {path}:5; valid: development, production",
        f"'ws.opn' is not valid for steps[1].expect.event at {path}:7",
        f"steps[1].expect.timeout at {path}:7: '10 s' is not a duration",
        f"console line 'exepct foo' at {path}:8 would be refused (unknown_command",
        f"bad regular expression '(unclosed' at {path}:9",
        f"talk at {path}:10 needs exactly one of phrase, clip",
        f"a step needs exactly one action at {path}:11 (found: expect, console)",
        f'steps[6].publish.version at {path}:13 must be a string, got 1.0 (quote it: "1.0")',
        f"unknown variable ${{nobody}} at {path}:14",
    ]
    for start in expected:
        assert any(message.startswith(start) for message in found), (start, found)
    assert len(found) == len(expected)


def test_validate_reports_problems_across_files(write: WriteFile) -> None:
    good = write("a.yaml", HEAD + "steps:\n  - expect: boot\n")
    bad1 = write("b.yaml", HEAD + "steps:\n  - exepct: boot\n")
    bad2 = write("c.yaml", "version: 2\nname: t\ndescription: d\nsteps: []\n")
    found = validate_paths([good, bad1, bad2])
    assert {p.file for p in found} == {bad1, bad2}
    assert any("version at" in p.message and "must be 1" in p.message for p in found)
    assert any("steps at" in p.message and "should be non-empty" in p.message for p in found)


def test_empty_file(write: WriteFile) -> None:
    path = write("x.yaml", "# nothing\n")
    [message] = problems(path)
    assert "empty file" in message and str(path) in message


def test_include_cycle_shows_the_chain(write: WriteFile) -> None:
    write("common/a.yaml", "version: 1\nsteps:\n  - include: common/b.yaml\n")
    write("common/b.yaml", "version: 1\nsteps:\n  - include: common/a.yaml\n")
    path = write("claim/x.yaml", HEAD + "steps:\n  - include: common/a.yaml\n")
    [message] = problems(path)
    assert message.startswith("include cycle at ") and "common/b.yaml:3" in message
    chain = [Path(part).name for part in message.split(": ", 1)[1].split(" -> ")]
    assert chain == ["x.yaml", "a.yaml", "b.yaml", "a.yaml"]


def test_a_file_including_itself_is_a_cycle(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - include: x.yaml\n")
    [message] = problems(path)
    assert "include cycle" in message


def test_include_parameters_are_filled_in(write: WriteFile) -> None:
    write(
        "common/boot.yaml",
        """
        version: 1
        params: {child: child-001, wait: 5s, extra: null}
        steps:
          - expect: {event: claim.ok, match: {child_id: "${child}"}, timeout: "${wait}"}
          - console: "set child_name ${extra}"
          - expect: {event: cmd.ok, capture: {got: "cmd"}}
        """,
    )
    path = write(
        "claim/x.yaml",
        HEAD + "steps:\n  - include: {file: common/boot.yaml, with: {child: kid-9, extra: Sam}}\n"
        "  - console: 'set child_id ${got}'\n",
    )
    scenario = load_scenario(path)
    first, second = scenario.steps[0], scenario.steps[1]
    assert isinstance(first.action, Expect)
    assert first.action.pattern.match == {"child_id": "kid-9"}
    assert first.timeout == 5.0
    assert isinstance(second.action, Console) and second.action.line == "set child_name Sam"
    assert "common/boot.yaml:4 (included from " in str(first.loc)
    assert str(first.loc).endswith("claim/x.yaml:5)")


def test_include_parameter_errors(write: WriteFile) -> None:
    write("common/g.yaml", "version: 1\nparams: {needed: null}\nsteps:\n  - expect: boot\n")
    path = write("x.yaml", HEAD + "steps:\n  - include: {file: common/g.yaml, with: {nede: 1}}\n")
    found = problems(path)
    assert any("has no parameter nede; its params: needed" in p for p in found)
    assert any("needs needed (give them under with:)" in p for p in found)


def test_missing_include_lists_where_it_looked(write: WriteFile) -> None:
    path = write("claim/x.yaml", HEAD + "steps:\n  - include: common/nope.yaml\n")
    [message] = problems(path)
    assert "include 'common/nope.yaml'" in message and "no such file; looked in:" in message
    assert "claim/common/nope.yaml" in message


def test_captures_define_variables_for_later_steps(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        HEAD + "vars: {name: Sam}\nsteps:\n"
        "  - expect: {event: claim.ok, capture: {sid: device_session_id}}\n"
        "  - expect_line: 'id=(?P<line_id>[0-9]+)'\n"
        "  - console: 'set child_name ${name}${sid}${line_id}${device.child_id}'\n",
    )
    assert len(load_scenario(path).steps) == 3


def test_variables_used_before_capture_are_errors(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        HEAD + "steps:\n  - console: 'set child_name ${sid}'\n"
        "  - expect: {event: claim.ok, capture: {sid: device_session_id}}\n",
    )
    [message] = problems(path)
    assert message.startswith(f"unknown variable ${{sid}} at {path}:5")


def test_refused_console_lines_need_reply_error(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - console: {line: 'button hold', reply: error}\n")
    action = load_scenario(path).steps[0].action
    assert action == Console(line="button hold", reply="error")


def test_release_specs_and_capabilities(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        HEAD
        + """requires: [ota]
given:
  devices: [{device_id: Teddy-ESP32-0042}]
  children: [{child_id: kid, age: 5, consent: true}]
  config: {heartbeat_interval: 5}
  releases:
    - version: 1.1.0
      break: {chip_id: esp32s3, sha256_mismatch: true}
      behaviour: {selftest: fail}
steps:
  - power_cut: {}
  - server_fault: {kind: http_status, path: /api/v1/pair/claim, status: 503, count: 2}
  - talk: hello teddy
""",
    )
    scenario = load_scenario(path)
    [release] = scenario.given.releases
    assert release.breaks.chip_id == 9 and release.breaks.sha256_mismatch
    assert scenario.given.provisioning.devices[0].device_id == "Teddy-ESP32-0042"
    needs = scenario.needs()
    assert needs["ota"] == "the scenario's `requires`"
    assert needs["power_cut"].startswith("step 1 `power_cut` at ")
    assert needs["server_control"] == "the scenario's `given:`"  # a server at a URL may lack it
    assert set(needs) == {"ota", "power_cut", "server_faults", "audio_in", "server_control"}


def test_bad_given_and_fault_arguments(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        HEAD + "given:\n  devices: [{device_id: short}]\n"
        "steps:\n  - server_fault: {kind: invalid_json, status: 503}\n",
    )
    found = problems(path)
    assert any("server_fault invalid_json at" in p and "takes only count" in p for p in found)
    path.write_text(HEAD + "given:\n  devices: [{device_id: short}]\nsteps:\n  - expect: boot\n")
    [message] = problems(path)
    assert "devices[0].device_id: 8-64 characters" in message


def test_talk_lines_are_checked_like_the_device_would(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - talk: {clip: 'bad clip!'}\n  - talk: '  '\n")
    assert problems(path) == [
        f"talk at {path}:5 would be refused: talk: bad clip name 'bad clip!'; "
        'quote phrases: talk "..."',
        f"talk at {path}:6 would be refused: talk: empty phrase",
    ]
