"""The step registry: every kind is one module; schema, load errors and docs follow it."""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from hil.errors import ScenarioLoadError
from hil.scenario.fragments import STR, obj
from hil.scenario.loader import load_scenario
from hil.scenario.model import Action
from hil.scenario.schema import include_schema, scenario_schema
from hil.scenario.values import placeholder_text
from hil.steps import docs, registry
from hil.steps.kind import Doc, StepKind
from hil.steps.kinds import BUILTIN
from hil.steps.kinds.expect import Expect
from hil.steps.kinds.talk import Talk, talk_command
from hil.targets.base import ALL_CAPABILITIES, AUDIO_OUT, SERVER_EVENTS
from protocol.console import command_word, format_command, parse_command
from tests.hil import beep_kind
from tests.hil.conftest import WriteFile

pytestmark = pytest.mark.unit

HEAD = "version: 1\nname: t\ndescription: d\n"


def step_keys(schema: dict[str, Any]) -> list[str]:
    """The keys a step may have in `schema` (step kinds, then the common keys)."""
    keys: list[str] = schema["properties"]["steps"]["items"]["propertyNames"]["enum"]
    return keys


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioLoadError) as info:
        load_scenario(path)
    return [p.message for p in info.value.problems]


def test_a_new_kind_appears_in_the_schema_load_errors_and_readme_table(
    write: WriteFile, registered_beep: StepKind[beep_kind.Beep]
) -> None:
    for schema in (scenario_schema(), include_schema()):
        assert step_keys(schema)[len(BUILTIN)] == "beep"
        assert schema["properties"]["steps"]["items"]["properties"]["beep"] == beep_kind.KIND.schema
    path = write("x.yaml", HEAD + "steps:\n  - beeep: {times: 2}\n  - {}\n")
    unknown, empty = problems(path)
    assert unknown.startswith(f"unknown step 'beeep' at {path}:5; valid steps: console, talk")
    assert ", include, beep (did you mean 'beep'?)" in unknown
    assert empty.endswith(", include, beep (start each step with '- ')")
    assert docs.render_table().endswith(
        "\n| `beep` | `{times}` | beeps `times` times; needs `audio_out` |"
    )


def test_a_new_kind_is_built_with_its_checks_and_removed_again(write: WriteFile) -> None:
    path = write("x.yaml", HEAD + "steps:\n  - beep: {times: 2}\n  - console: 'text ${beeps}'\n")
    bad = write("y.yaml", HEAD + "steps:\n  - beep: {times: 12}\n")
    registry.register(beep_kind.KIND)
    try:
        first = load_scenario(path).steps[0]
        assert (first.kind, first.action) == ("beep", beep_kind.Beep(2))
        assert first.needs() == {AUDIO_OUT}
        assert problems(bad) == [f"beep at {bad}:5: at most 9 times"]
    finally:
        registry.unregister("beep")
    assert "beep" not in step_keys(scenario_schema())
    assert "beep" not in docs.render_table()
    [message] = problems(bad)
    assert message.startswith(f"unknown step 'beep' at {bad}:5")


def test_entry_points_add_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = EntryPoint("beep", "tests.hil.beep_kind:KIND", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(
        registry,
        "entry_points",
        lambda *, group: [entry] if group == registry.ENTRY_POINT_GROUP else [],
    )
    assert registry.step_names() == (*BUILTIN, "beep")
    assert registry.get_kind("beep") is beep_kind.KIND
    wrong = EntryPoint("bad", "tests.hil.beep_kind:MAX_TIMES", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "entry_points", lambda *, group: [wrong])
    with pytest.raises(registry.StepKindError, match=r"must name a hil\.steps\.kind\.StepKind"):
        registry.all_kinds()


def test_kinds_are_checked_when_declared_and_registered() -> None:
    doc = Doc(form="`x`", does="y")
    with pytest.raises(ValueError, match="lower_case_with_underscores"):
        StepKind(name="Beep-Now", schema=STR, doc=doc)
    with pytest.raises(ValueError, match="give model, build and run together"):
        StepKind(name="half", schema=STR, doc=doc, model=beep_kind.Beep)
    twin: StepKind[Action] = StepKind(name="expect", schema=obj({}), doc=doc)
    with pytest.raises(registry.StepKindError, match="'expect' is already registered"):
        registry.register(twin)
    with pytest.raises(registry.StepKindError, match="built in and cannot be removed"):
        registry.unregister("expect")
    with pytest.raises(registry.StepKindError, match="valid steps: console, talk"):
        registry.get_kind("nope")


def test_every_builtin_kind_is_one_module_with_everything() -> None:
    assert registry.step_names() == BUILTIN
    for name in BUILTIN:
        kind = registry.get_kind(name)
        assert importlib.import_module(f"hil.steps.kinds.{name}").KIND is kind
        assert kind.doc.form and kind.doc.does and kind.schema
        assert set(kind.needs) <= set(ALL_CAPABILITIES)
        assert kind.expanded_at_load == (name == "include")


def test_the_readme_step_table_is_the_generated_one(tmp_path: Path) -> None:
    docs.check()  # hil/README.md as committed
    stale = tmp_path / "README.md"
    text = docs.README.read_text(encoding="utf-8")
    stale.write_text(text.replace("instant power loss", "power loss"), encoding="utf-8")
    assert docs.main(["--check", "--readme", str(stale)]) == 1
    assert docs.main(["--readme", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text
    assert docs.main(["--check", "--readme", str(stale)]) == 0
    stale.write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(docs.StaleDocsError, match="no step table markers"):
        docs.check(stale)


def test_talk_sends_the_command_its_load_check_parsed() -> None:
    action = Talk(phrase='say "${word}" twice')
    checked = format_command(talk_command(action, placeholder_text))
    sent = talk_command(action, lambda text: text.replace("${word}", "hi"))
    assert parse_command(checked) == talk_command(action, placeholder_text)
    assert format_command(sent) == 'talk "say \\"hi\\" twice"'
    assert parse_command(format_command(sent)) == sent and sent.name == "talk"
    clip = talk_command(Talk(clip="${name}"), lambda text: "hello")
    assert format_command(clip) == "talk hello"


def test_the_reply_word_is_the_first_word_as_typed() -> None:
    assert command_word("  button hold") == "button"  # refused, still cmd=button (SPEC §9.3)
    assert command_word("exepct foo") == "exepct"
    assert command_word("   ") == ""


def test_expect_server_steps_are_their_own_kind(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        HEAD + "steps:\n  - expect_server: {event: claim.ok, match: {device_id: '${nobody}'}}\n",
    )
    [message] = problems(path)  # its ${var}s are checked at load like every other step's
    assert message.startswith(f"unknown variable ${{nobody}} at {path}:5")
    path.write_text(HEAD + "steps:\n  - expect_server: claim.ok\n", encoding="utf-8")
    [step] = load_scenario(path).steps
    assert step.kind == "expect_server" and isinstance(step.action, Expect)
    assert step.label().startswith("step 1 `expect_server` at ")
    assert step.needs() == {SERVER_EVENTS}
