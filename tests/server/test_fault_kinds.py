"""SPEC §11.4 and every list of fault kinds agree with the vocabulary (protocol.server_faults).

The vocabulary is the one definition; the SPEC table explains it, the server's FaultPlan
and the scenario schema use it. These checks fail when a kind's name, place or members
differ between them, so they are edited together.
"""

from __future__ import annotations

from importlib import resources

import pytest

from hil.steps.server_side import CHAT_FAULT_KINDS, FAULT_KINDS
from protocol.server_faults import CHAT, FAULT_NAMES, FAULTS, HTTP
from server.faults import CHAT_FAULTS, FaultPlan, UnknownFaultError

pytestmark = pytest.mark.unit

SPEC = resources.files("protocol").joinpath("SPEC.md").read_text(encoding="utf-8")


def spec_rows() -> list[list[str]]:
    text = SPEC[SPEC.index("### 11.4 Faults") : SPEC.index("### 11.5 Observation")]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_spec_table_is_the_vocabulary() -> None:
    rows = spec_rows()
    assert [row[0].strip("`") for row in rows] == list(FAULT_NAMES)
    for fault, (_, on, members, does) in zip(FAULTS, rows, strict=True):
        assert on == fault.on, fault.name
        assert {m.strip("` ") for m in members.split(",")} == {*fault.keys, "count"}, fault.name
        assert does == fault.description, fault.name


def test_server_and_schema_use_the_vocabulary() -> None:
    assert FAULT_KINDS == FAULT_NAMES
    assert tuple(CHAT_FAULTS) == tuple(CHAT_FAULT_KINDS)
    assert {f.name for f in FAULTS if f.on == CHAT} == set(CHAT_FAULTS)
    assert {f.on for f in FAULTS} == {CHAT, HTTP}


def test_every_chat_kind_is_accepted_and_others_refused() -> None:
    plan = FaultPlan()
    for kind in CHAT_FAULTS:
        plan.inject(kind)  # no connection: kept for the next
    with pytest.raises(UnknownFaultError) as exc:
        plan.inject("meteor")
    assert str(exc.value).endswith("valid: " + ", ".join(FAULT_NAMES))
