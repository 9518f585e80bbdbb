"""SPEC §1.4 timeout table agrees with ServerSettings and ``teddy-server serve`` flags.

``ConnectionTimeouts`` is the one definition of the transport deadlines; SPEC explains it and
the CLI exposes it. These checks fail when a deadline, its default or its flag is in one and
not the others, and when a flag does not reach the settings the server runs with.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from server import cli
from server.errors import ConfigurationError
from server.settings import ConnectionTimeouts, ServerSettings

pytestmark = pytest.mark.unit

SPEC = resources.files("protocol").joinpath("SPEC.md").read_text(encoding="utf-8")


def _table() -> dict[str, list[str]]:
    """§1.4 rows by timeout name: [default, runs, setting, flag, client sees]."""
    start = SPEC.index("### 1.4 Timeouts")
    section = SPEC[start : SPEC.index("\n## ", start)]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def _serve_options() -> dict[str, argparse.Action]:
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {opt: a for a in sub.choices["serve"]._actions for opt in a.option_strings}


def _code(cell: str) -> str:
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, cell
    return match.group(1)


def test_every_connection_timeout_is_a_spec_row_with_its_default_and_flag() -> None:
    table = _table()
    options = _serve_options()
    base = ConnectionTimeouts()
    documented = {_code(cells[2]): cells for cells in table.values() if "timeouts." in cells[2]}
    assert set(documented) == {f"timeouts.{f.name}" for f in dataclasses.fields(base)}
    for setting, (default, _runs, _, flag, _sees) in documented.items():
        value = getattr(base, setting.removeprefix("timeouts."))
        assert default == f"{value:g} s", setting
        assert options[_code(flag)].default == value, flag


def test_idle_websocket_row_is_three_heartbeats() -> None:
    default, _runs, setting, flag, sees = _table()["idle WebSocket"]
    interval = ServerSettings.heartbeat_interval_s
    assert default.startswith(f"{3 * interval} s (3 \N{MULTIPLICATION SIGN} heartbeat interval)")
    assert _code(setting) == "heartbeat_interval_s"
    assert _serve_options()[_code(flag)].default == interval
    assert "4008" in sees


def test_408_is_in_the_error_table() -> None:
    assert "| 408 | `request_timeout` |" in SPEC


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(ConnectionTimeouts)])
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_timeouts_must_be_positive_seconds(name: str, bad: float) -> None:
    with pytest.raises(ConfigurationError, match=f"{name} must be a positive number"):
        ConnectionTimeouts(**{name: bad})


def test_serve_flags_reach_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli, "serve", lambda **kwargs: seen.update(kwargs))
    argv = ["serve", "--data", str(tmp_path), "--header-read-timeout", "2.5"]
    argv += ["--body-read-timeout", "7", "--keep-alive-timeout", "0.5"]
    assert cli.main([*argv, "--heartbeat-interval", "12"]) == 0
    assert seen["timeouts"] == ConnectionTimeouts(2.5, 7.0, 0.5)
    assert seen["heartbeat_interval_s"] == 12


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--header-read-timeout", "0"),
        ("--body-read-timeout", "soon"),
        ("--heartbeat-interval", "0"),
    ],
)
def test_serve_refuses_bad_timeouts(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", flag, value])
    assert exit_.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("row", "setting"),
    [
        ("utterance length", "utterance_max_s"),
        ("silence inside an utterance", "utterance_silence_s"),
        ("wait for a decoder", "speech_wait_s"),
    ],
)
def test_speech_timeouts_are_spec_rows_with_their_defaults_and_flags(
    row: str, setting: str
) -> None:
    default, _runs, documented, flag, _sees = _table()[row]
    value = getattr(ServerSettings, setting)
    assert _code(documented) == setting
    assert default == f"{value:g} s", row
    assert _code(flag) in _serve_options(), flag
