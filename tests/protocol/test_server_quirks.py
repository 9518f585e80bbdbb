"""SPEC Appendix B agrees with the quirk vocabulary (protocol.server_quirks).

The vocabulary is the one definition; the table explains it to people. These checks fail
when a quirk's name, defect, section or description differs between the two, or when the
table names a scenario that does not exist, so they are edited together.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from protocol.errors import ProtocolError
from protocol.server_quirks import (
    CHAT_WITHOUT_JWT,
    QUIRK_NAMES,
    QUIRKS,
    Quirks,
    UnknownQuirkError,
    quirk_named,
)

pytestmark = pytest.mark.unit

SPEC = resources.files("protocol").joinpath("SPEC.md").read_text(encoding="utf-8")
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def appendix_b_rows() -> list[list[str]]:
    text = SPEC[SPEC.index("## Appendix B: Legacy-server quirks") :]
    end = text.find("\n## ", 1)
    text = text if end < 0 else text[:end]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_appendix_b_is_the_vocabulary() -> None:
    rows = appendix_b_rows()
    assert [row[0].strip("`") for row in rows] == list(QUIRK_NAMES)
    for quirk, (_, defect, section, does, _caught) in zip(QUIRKS, rows, strict=True):
        assert (None if defect == "—" else int(defect)) == quirk.defect, quirk.name
        assert section == quirk.section, quirk.name
        assert does.replace("`", "") == quirk.description, quirk.name


def test_every_quirk_names_scenarios_that_exist() -> None:
    for row in appendix_b_rows():
        named = re.findall(r"`([a-z_]+/[a-z0-9_]+)`", row[4])
        assert named, f"{row[0]}: no scenario catches it (a gap)"
        for name in named:
            assert (SCENARIOS / f"{name}.yaml").is_file(), f"{row[0]}: no scenario {name}"


def test_sections_exist() -> None:
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[ .]", SPEC, flags=re.MULTILINE))
    for quirk in QUIRKS:
        assert quirk.section.removeprefix("§") in headings, quirk.name


def test_names_are_unique_and_looked_up() -> None:
    assert len(set(QUIRK_NAMES)) == len(QUIRKS)
    assert quirk_named("chat_without_jwt") is CHAT_WITHOUT_JWT
    assert CHAT_WITHOUT_JWT.label() == "chat_without_jwt (defect 8, §6.1)"


def test_an_unknown_name_names_the_valid_ones() -> None:
    with pytest.raises(UnknownQuirkError) as exc:
        Quirks.named(["chat_without_jwt", "handshake_crash"])
    assert isinstance(exc.value, ProtocolError)
    wanted = f"unknown quirk 'handshake_crash'; valid quirks: {', '.join(QUIRK_NAMES)}"
    assert str(exc.value) == wanted


def test_a_set_iterates_in_vocabulary_order() -> None:
    quirks = Quirks.named(reversed(QUIRK_NAMES))
    assert quirks.names() == QUIRK_NAMES
    assert CHAT_WITHOUT_JWT in quirks and CHAT_WITHOUT_JWT not in Quirks()
    assert not Quirks() and len(quirks) == len(QUIRKS)
