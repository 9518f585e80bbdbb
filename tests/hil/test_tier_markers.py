"""The hil and wokwi tiers skip with a reason when their hardware or token is absent."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit

TESTS = """
import pytest

@pytest.mark.hil
def test_board():
    pass

@pytest.mark.wokwi
def test_sim():
    pass
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeconftest('pytest_plugins = ["hil.pytest_plugin"]')
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    hil: board\n    wokwi: sim\n"
    )
    pytester.makepyfile(TESTS)
    return pytester.runpytest_inprocess("-rs", *args)


def test_skipped_with_reasons_without_port_or_token(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WOKWI_CLI_TOKEN", raising=False)
    result = _run(pytester)
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*needs a board: pass --port*", "*set WOKWI_CLI_TOKEN*"])


def test_run_when_port_and_token_are_given(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WOKWI_CLI_TOKEN", "token")
    _run(pytester, "--port", "socket://127.0.0.1:1").assert_outcomes(passed=2)
