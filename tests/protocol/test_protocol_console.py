"""protocol.console: the serial console command grammar (SPEC §9)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.console import COMMANDS, Command, format_command, parse_command
from protocol.errors import CommandError
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

CASES = vector_cases("console")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_console_vector(case: dict[str, Any]) -> None:
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(CommandError) as info:
            parse_command(case["line"])
        assert info.value.reason == expect["error"]
        return
    cmd = parse_command(case["line"])
    assert cmd == Command(expect["name"], tuple(expect["args"]), expect["phrase"])
    assert format_command(cmd) == case["canonical"]
    assert parse_command(case["canonical"]) == cmd


@pytest.mark.parametrize("line", ["", "dance", "STATUS"])
def test_error_message_lists_valid_commands(line: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(line)
    assert all(name in str(info.value) for name in COMMANDS)


def test_set_errors_name_the_keys() -> None:
    with pytest.raises(CommandError, match="child_age, child_id, child_name, server, volume"):
        parse_command("set colour red")


PHRASE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Zl", "Zp"]),
    min_size=1,
    max_size=40,
).filter(lambda s: bool(s.strip()))


@given(PHRASE)
def test_talk_phrase_round_trip(phrase: str) -> None:
    cmd = Command("talk", phrase=phrase)
    assert parse_command(format_command(cmd)) == cmd


@given(PHRASE.filter(lambda s: s == s.strip()))
def test_text_round_trip(message: str) -> None:
    cmd = Command("text", (message,))
    assert parse_command(format_command(cmd)) == cmd


@given(PHRASE)
def test_set_child_name_round_trip(name: str) -> None:
    cmd = Command("set", ("child_name", name))
    assert parse_command(format_command(cmd)) == cmd
