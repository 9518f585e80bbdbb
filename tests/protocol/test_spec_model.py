"""SPEC.md §8 and §9 tables agree with the device model (protocol/device_model.yaml).

The model is the one definition; SPEC explains it to people. These checks fail when a
state, event, member, type, reset reason, command, refusal reason or `set` key is in one
and not the other, so the two are edited together.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

from protocol import device_model as dm

pytestmark = pytest.mark.unit

SPEC = resources.files("protocol").joinpath("SPEC.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    """The text of `### <title>` up to the next heading."""
    start = SPEC.index(f"### {title}")
    ends = [e for e in (SPEC.find("\n### ", start + 1), SPEC.find("\n## ", start)) if e > 0]
    return SPEC[start : min(ends, default=len(SPEC))]


def _rows(text: str) -> list[list[str]]:
    """The cells of every markdown table row after a header separator."""
    rows: list[list[str]] = []
    in_table = False
    for line in text.splitlines():
        if re.fullmatch(r"\|(-+\|)+", line.replace(" ", "")):
            in_table = True
        elif in_table and line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        else:
            in_table = False
    return rows


def _first_code(cell: str) -> str:
    match = re.match(r"`([^`]+)`", cell)
    assert match, cell
    return match.group(1)


def test_event_table_is_the_catalogue() -> None:
    """§8.2: names in order, each member with its type (required members only)."""
    rows = [r for r in _rows(_section("8.2 Events")) if r[0].startswith("`")]
    assert [_first_code(r[0]) for r in rows] == list(dm.EVENT_NAMES)
    for name, cells in zip(dm.EVENT_NAMES, rows, strict=True):
        documented = re.findall(r"`([a-z_]+)` (str|int|bool)", cells[1])
        wanted = [(f.name, f.type) for f in dm.EVENT_FIELDS[name] if f.required]
        assert documented == wanted, name


def test_state_table_is_the_state_list() -> None:
    rows = _rows(_section("8.3 Device states"))
    assert [_first_code(r[0]) for r in rows] == list(dm.STATES)


def test_reset_reasons_are_listed() -> None:
    after = _section("8.2 Events").split("`reset_reason` values", 1)[1].split("lower-case):", 1)[1]
    paragraph = after.split(".", 1)[0]
    assert re.findall(r"`([a-z_]+)`", paragraph) == list(dm.RESET_REASONS)


def test_command_table_names_every_command() -> None:
    rows = _rows(_section("9.2 Commands"))
    commands = [_first_code(r[0]).split()[0] for r in rows if not r[0].startswith("`child")]
    documented = list(dict.fromkeys(c for c in commands if c in dm.COMMAND_SPECS))
    assert documented == list(dm.COMMAND_NAMES)
    keys = [_first_code(r[0]) for r in rows if len(r) == 4]
    assert keys == list(dm.SET_KEYS)


def test_refusal_reasons_are_the_models() -> None:
    rows = _rows(_section("9.3 Replies"))
    assert [_first_code(r[0]) for r in rows] == list(dm.COMMAND_ERROR_REASONS)


def _appendix(letter: str) -> str:
    start = SPEC.index(f"## Appendix {letter}:")
    end = SPEC.find("\n## ", start + 1)
    return SPEC[start : end if end > 0 else len(SPEC)]


def test_appendix_c_is_the_quirk_table() -> None:
    """Appendix C: one row per model quirk, in order, with its value and SPEC sections."""
    rows = _rows(_appendix("C"))
    assert [_first_code(r[0]) for r in rows] == list(dm.QUIRKS)
    for row in rows:
        spec = dm.QUIRK_SPECS[_first_code(row[0])]  # type: ignore[index]
        value = _first_code(row[1]) if row[1] else None
        assert value == spec.value, spec.name
        assert row[3] == spec.spec, spec.name
        assert row[4] and row[5], f"{spec.name}: say what a server answers and what catches it"


def test_quirk_command_documented() -> None:
    """§9.2 names `quirk` and §9.3 its reply member (the model's reply)."""
    assert "`quirk on <name> [value]`" in _section("9.2 Commands")
    reply = [f.name for f in dm.COMMAND_SPECS["quirk"].reply]
    assert reply == ["quirks"] and "`quirk` → `quirks`" in _section("9.3 Replies")
