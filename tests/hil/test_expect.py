"""The expect engine: matching, captures, timeouts that explain themselves, garbage input."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hil import expect as ex
from hil.errors import ExpectTimeoutError, StepFailedError
from hil.scenario.model import EventPattern
from hil.scenario.values import UnknownVariableError, parse_duration, substitute
from hil.streams import DeviceConsole
from hil.targets.base import MAX_LINE_CHARS, LineBuffer, LineSplitter
from protocol.eventline import format_event

pytestmark = pytest.mark.unit


def ev(name: str, **data: object) -> str:
    return format_event(uptime_ms=5, name=name, data=data)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[DeviceConsole]:
    log = DeviceConsole(log_path=tmp_path / "console.log", events_path=tmp_path / "events.jsonl")
    yield log
    log.close()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("10s", 10.0), ("1.5s", 1.5), ("2m", 120.0), (3, 3.0), (0.25, 0.25)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10 s", "s", "-1", True, -2, "1h"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match=r"duration|negative"):
        parse_duration(text)


def test_substitution_keeps_types_and_escapes_inside_regexes() -> None:
    values = {"age": 7, "v": "1.0.0", "ok": True}
    assert substitute("${age}", values) == 7
    assert substitute("age ${age}, ${ok}", values) == "age 7, true"
    assert substitute("${v}", values, regex=True) == r"1\.0\.0"
    assert substitute("cost $$5 ${age}", values) == "cost $5 7"
    assert substitute({"a": ["${v}"]}, values) == {"a": ["1.0.0"]}
    with pytest.raises(UnknownVariableError, match=r"unknown variable \$\{x\}; defined here: age"):
        substitute("${x}", values)


async def test_match_capture_and_cursor(console: DeviceConsole) -> None:
    console.add_line("free text")
    console.add_line(ev("claim.fail", status=503, code="x", attempt=1, retry_in_ms=100))
    console.add_line(ev("claim.ok", device_session_id="s-1", child_id="kid", age=7))
    pattern = EventPattern("device", "claim.ok", {"child_id": "k.d", "age": 7})
    record = await ex.expect_event(console, pattern, within=0.1, label="s", console=console)
    assert record.index == 2 and console.cursor == 3
    variables: dict[str, object] = {}
    ex.capture(record.data, {"sid": "device_session_id"}, variables, label="s")
    assert variables == {"sid": "s-1"}
    with pytest.raises(StepFailedError, match="no field 'nope'"):
        ex.capture(record.data, {"x": "nope"}, variables, label="s")
    # The cursor has passed claim.fail: it is not found again (pexpect semantics).
    fail = EventPattern("device", "claim.fail")
    with pytest.raises(ExpectTimeoutError):
        await ex.expect_event(console, fail, within=0.05, label="s", console=console)


def test_field_matching_rules() -> None:
    assert ex.field_matches("idle", "idle") and not ex.field_matches("idle", "idle2")
    assert ex.field_matches("[0-9]+", 42) and ex.field_matches("true", True)
    assert ex.field_matches(True, True) and not ex.field_matches(True, 1)
    assert not ex.field_matches(7, "7") and ex.field_matches(None, None)


async def test_timeout_report_shows_pattern_near_misses_last_lines_and_log(
    console: DeviceConsole,
) -> None:
    for i in range(30):
        console.add_line(f"line {i}")
    console.add_line(ev("ota.none", reason="same_version"))
    pattern = EventPattern("device", "ota.none", {"reason": "older_version"})
    with pytest.raises(ExpectTimeoutError) as info:
        await ex.expect_event(
            console, pattern, within=0.05, label="step 3 `expect` at x.yaml:9", console=console
        )
    text = str(info.value)
    assert text.startswith("step 3 `expect` at x.yaml:9: timed out after 50ms")
    assert "expected: device event ota.none with reason =~ /older_version/" in text
    assert "reason: 'same_version' does not match 'older_version'" in text
    assert "last 20 of 31 console lines" in text
    shown = [line for line in text.splitlines() if "] line " in line]
    assert len(shown) == 19 and shown[0].endswith("] line 11") and shown[-1].endswith("line 29")
    assert f"full log: {console.log_path}" in text
    assert info.value.reason.startswith("no ota.none matching within 50ms")


async def test_garbage_never_raises_and_is_reported(console: DeviceConsole, tmp_path: Path) -> None:
    buffer = LineBuffer()
    buffer.subscribe(console.add_line)
    splitter = LineSplitter(buffer.emit)
    splitter.feed(b"\xff\xfe\x00binary\r\n@teddy 1 boot {not json}\n")
    splitter.feed(b"x" * (MAX_LINE_CHARS + 10) + b"\n@teddy 2 no.such.event {}\n")
    splitter.feed(b"@teddy 3 wifi.up {}\n" + b"y" * (MAX_LINE_CHARS * 5))  # never a LF
    buffer.emit("\udcff lone surrogate")
    texts = [r.text for r in console.records]
    assert texts[0] == "\ufffd\ufffd\x00binary"
    assert texts[2].endswith("[line cut: 10 more characters]")
    problems = [r.problem for r in console.problems()]
    assert len(problems) == 3
    assert "bad JSON" in str(problems[0]) and "unknown event" in str(problems[1])
    assert "lacks ip" in str(problems[2])
    console.close()
    assert "lone surrogate" in (tmp_path / "console.log").read_text()
    entries = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e.get("problem") is not None for e in entries] == [True, True, True]


def test_a_line_the_harness_cut_off_is_free_text(console: DeviceConsole) -> None:
    """SPEC §8.1 "Cut lines": a power cut mid-write is not the target's malformed line."""
    buffer = LineBuffer()
    buffer.subscribe(console.add_line)
    splitter = LineSplitter(buffer.emit)
    splitter.feed(b"@teddy 5 ota.progr")
    splitter.flush(cut="power-off")
    splitter.feed(b"@teddy 6 ota.progr")
    splitter.flush()  # it exited mid-line on its own: still judged as an event line
    assert [r.text for r in console.records] == [
        "[line cut by power-off] @teddy 5 ota.progr",
        "@teddy 6 ota.progr",
    ]
    assert [r.problem is not None for r in console.records] == [False, True]


async def test_lines_from_another_thread_wake_the_waiter(console: DeviceConsole) -> None:
    console.bind(asyncio.get_running_loop())
    timer = threading.Timer(0.05, console.add_line, args=(ev("wifi.up", ip="1.2.3.4"),))
    timer.start()
    pattern = EventPattern("device", "wifi.up")
    record = await ex.expect_event(console, pattern, within=2.0, label="s", console=console)
    assert record.data == {"ip": "1.2.3.4"}
    timer.join()


async def test_expect_absent_and_expect_line(console: DeviceConsole) -> None:
    pattern = EventPattern("device", "ota.rollback")
    await ex.expect_absent(console, pattern, within=0.02, label="s", console=console)
    console.add_line(ev("ota.rollback", **{"from": "1.1.0", "to": "1.0.0", "reason": "x"}))
    with pytest.raises(StepFailedError, match="a forbidden event appeared"):
        await ex.expect_absent(console, pattern, within=0.02, label="s", console=console)
    console.add_line("I (44) teddy: heap=12345 free")
    found = await ex.expect_line(console, r"heap=(?P<heap>\d+)", within=0.1, label="s")
    assert found.groupdict() == {"heap": "12345"}
    with pytest.raises(ExpectTimeoutError, match="a console line containing /panic/"):
        await ex.expect_line(console, "panic", within=0.02, label="s")


def test_resolve_escapes_captured_values() -> None:
    pattern = EventPattern("device", "boot", {"fw_version": "${v}", "slot": "ota_[01]", "x": 1})
    resolved = ex.resolve(pattern, {"v": "1.0.0"})
    assert resolved.match == {"fw_version": r"1\.0\.0", "slot": "ota_[01]", "x": 1}
