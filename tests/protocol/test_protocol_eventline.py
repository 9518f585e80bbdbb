"""protocol.eventline: `@teddy` event lines and the event catalogue (SPEC §8)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import EventLineError
from protocol.eventline import (
    EVENT_CATALOGUE,
    Event,
    format_event,
    is_event_line,
    missing_fields,
    parse_event_line,
    validate_event,
)
from protocol.vectors import load_vectors, vector_cases

pytestmark = pytest.mark.unit

CASES = vector_cases("eventlines")
PARSE = [c for c in CASES if c.get("kind", "parse") == "parse"]
FORMAT = [c for c in CASES if c.get("kind") == "format"]


@pytest.mark.parametrize("case", PARSE, ids=[c["id"] for c in PARSE])
def test_parse_vector(case: dict[str, Any]) -> None:
    expect = case["expect"]
    if expect == "error":
        with pytest.raises(EventLineError):
            parse_event_line(case["line"])
    elif expect is None:
        assert parse_event_line(case["line"]) is None
    else:
        assert parse_event_line(case["line"]) == Event(**expect)


@pytest.mark.parametrize("case", FORMAT, ids=[c["id"] for c in FORMAT])
def test_format_vector(case: dict[str, Any]) -> None:
    line = format_event(uptime_ms=case["uptime_ms"], name=case["name"], data=case["data"])
    assert line == case["line"]
    assert parse_event_line(line) == Event(case["uptime_ms"], case["name"], case["data"])


def test_catalogue_matches_vectors() -> None:
    catalogue = load_vectors("eventlines")["catalogue"]
    assert catalogue == {name: list(fields) for name, fields in EVENT_CATALOGUE.items()}


def test_deep_nesting_is_an_event_line_error() -> None:
    with pytest.raises(EventLineError):
        parse_event_line('@teddy 1 boot {"x":' + "[" * 5000 + "]" * 5000 + "}")


def test_validate_event() -> None:
    validate_event(Event(1, "wifi.down", {}))
    validate_event(Event(1, "ws.open", {"url": "ws://x/", "extra": 1}))
    with pytest.raises(EventLineError, match="lacks code, reason"):
        validate_event(Event(1, "ws.close", {}))
    with pytest.raises(EventLineError, match=re.escape("unknown event 'ws.opened'")):
        validate_event(Event(1, "ws.opened", {}))
    assert missing_fields(Event(1, "claim.ok", {"age": 7})) == ["device_session_id", "child_id"]
    assert missing_fields(Event(1, "nope", {})) == []


@pytest.mark.parametrize(
    ("uptime", "name", "data"),
    [
        (-1, "boot", {}),
        (True, "boot", {}),
        (1, "Boot", {}),
        (1, "a..b", {}),
        (1, "boot", {"x": {1, 2}}),
    ],
)
def test_format_refuses_bad_events(uptime: Any, name: str, data: Any) -> None:
    with pytest.raises(EventLineError):
        format_event(uptime_ms=uptime, name=name, data=data)


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}(\.[a-z0-9_]{1,8}){0,3}", fullmatch=True)
VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
)


@given(st.integers(0, 2**63), NAMES, st.dictionaries(st.text(max_size=8), VALUES, max_size=5))
def test_format_parse_round_trip(uptime: int, name: str, data: dict[str, Any]) -> None:
    line = Event(uptime, name, data).to_line()
    assert "\n" not in line and "\r" not in line and is_event_line(line)
    assert parse_event_line(line + "\r\n") == Event(uptime, name, data)


@given(st.text(max_size=60))
def test_free_text_is_never_an_event(line: str) -> None:
    if not line.startswith("@teddy "):
        assert parse_event_line(line) is None


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("state", {"from": "idle", "to": "dancing"}, "to must be one of boot, wifi"),
        ("ws.close", {"code": "1000", "reason": "normal"}, "code must be an integer"),
        ("ws.close", {"code": True, "reason": "normal"}, "code must be an integer"),
        ("config.ok", {"etag": "x", "cached": 1}, "cached must be a boolean"),
        (
            "boot",
            {"fw_version": "1", "slot": "ota_2", "reset_reason": "sw", "device_id": "d"},
            "slot must be one of ota_0, ota_1",
        ),
        ("cmd.error", {"cmd": "x", "reason": "bad_value", "message": 7}, "message must be"),
        ("cmd.ok", {"cmd": "dance"}, "cmd must be one of talk"),
        ("cmd.ok", {"cmd": "status", "wifi": "yes"}, "wifi must be a boolean"),
        ("cmd.ok", {"cmd": "help", "commands": ["talk", 3]}, "commands must be an array"),
    ],
)
def test_validate_event_checks_types_and_closed_values(
    name: str, data: dict[str, object], problem: str
) -> None:
    """SPEC §8.2 types and closed lists come from the device model (EVENT_FIELDS)."""
    with pytest.raises(EventLineError, match=re.escape(problem)):
        validate_event(Event(1, name, data))


def test_optional_and_reply_members_are_checked_only_when_present() -> None:
    validate_event(Event(1, "cmd.error", {"cmd": "x", "reason": "bad_value"}))
    validate_event(Event(1, "cmd.ok", {"cmd": "set", "key": "volume", "value": 5}))
    validate_event(Event(1, "cmd.ok", {"cmd": "status"}))
