"""The edges: `teddy-hil` and the pytest plugin turn flags and environment into options.

The environment is read there and only as the default of a flag; these tests hand the
CLI an explicit `env=` mapping (or set the variable for an in-process pytest run), which
is the one place a variable may matter.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hil import cli
from hil.runner import server_setup
from hil.serial.cli import flash_main
from hil.targets.options import option_fields
from hil.targets.registry import options_types
from protocol.image import build_app_image
from server.speech.pipeline import SpeechPipeline
from tests.hil.conftest import WriteFile

SCENARIO = "version: 1\nname: s\ndescription: d\nsteps:\n  - expect: boot\n"


def main(*argv: str, env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out, env=env)
    return code, out.getvalue()


@pytest.fixture
def fast_pipeline(monkeypatch: pytest.MonkeyPatch, pipeline: SpeechPipeline) -> None:
    monkeypatch.setattr(server_setup, "_pipeline", pipeline)


@pytest.mark.emu
@pytest.mark.usefixtures("fast_pipeline")
def test_run_takes_the_port_from_the_environment_unless_the_flag_gives_it(
    write: WriteFile, tmp_path: Path
) -> None:
    path = write("claim/s.yaml", SCENARIO)
    env = {"TEDDY_SERIAL_PORT": "/dev/ttyTEDDY404", "TEDDY_LOCK_DIR": str(tmp_path / "locks")}
    args = ("run", str(path), "--target", "serial", "--artifacts", str(tmp_path / "a"))
    code, out = main(*args, env=env)
    assert code == 1 and "set-up failed: board dev_ttyTEDDY404" in out, out
    code, out = main(*args, "--port", "/dev/ttyTEDDY405", env=env)
    assert code == 1 and "set-up failed: board dev_ttyTEDDY405" in out, out
    assert "dev_ttyTEDDY404" not in out
    code, out = main(*args, env={})
    assert code == 0 and "needs a board: pass --port URL" in out, out  # skipped, not failed


@pytest.mark.unit
def test_run_refuses_bad_options_and_another_targets_flags(write: WriteFile) -> None:
    path = str(write("claim/s.yaml", SCENARIO))
    code, out = main("run", path, "--target", "serial", "--wokwi-build", "x.bin", env={})
    assert code == 2
    assert out.strip() == (
        "teddy-hil: --wokwi-build: option of target wokwi, not of serial;"
        " drop it or pass --target wokwi"
    )
    code, out = main("run", path, "--target", "serial", env={"TEDDY_SERIAL_RESET": "yank"})
    assert code == 2 and "serial option reset (--serial-reset / $TEDDY_SERIAL_RESET)" in out
    code, out = main("run", path, "--target", "wokwi", "--wokwi-api-url", "x", env={})
    assert code == 2 and "'x' is not a ws:// or wss:// URL" in out


@pytest.mark.unit
def test_run_help_documents_every_option_and_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"], env={})
    text = capsys.readouterr().out
    for kind in options_types():
        for name, spec in option_fields(kind):
            for word in (spec.flag, spec.env):
                assert word is None or word in text, f"{kind.__name__}.{name}: {word}"
    assert "environment variables (read only as defaults)" in text


@pytest.mark.unit
def test_targets_reports_availability_from_the_given_environment() -> None:
    code, out = main("targets", env={"TEDDY_SERIAL_PORT": "socket://127.0.0.1:1"})
    serial = next(line for line in out.splitlines() if line.startswith("serial:"))
    assert code == 0 and "unavailable" not in serial
    code, out = main("targets", env={"TEDDY_SERIAL_RESET": "yank"})
    serial = next(line for line in out.splitlines() if line.startswith("serial:"))
    assert "[unavailable: serial option reset" in serial
    assert "  options: --port, --bench, --board" in out


@pytest.mark.unit
def test_flash_takes_its_board_from_the_same_options(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(build_app_image(version="1.0.0"))
    log = ("--log", str(tmp_path / "flash.log"), "--lock-dir", str(tmp_path / "locks"))
    out = io.StringIO()
    code = flash_main([str(app), *log], out=out, env={"TEDDY_SERIAL_PORT": "/dev/ttyTEDDY404"})
    assert code == 1 and "/dev/ttyTEDDY404" in out.getvalue(), out.getvalue()
    bench = tmp_path / "bench.yaml"
    bench.write_text(
        "version: 1\nboards:\n  - {name: a, port: /dev/ttyA}\n  - {name: b, port: /dev/ttyB}\n"
    )
    out = io.StringIO()
    assert flash_main([str(app), *log], out=out, env={"TEDDY_BENCH": str(bench)}) == 1
    assert out.getvalue().strip() == (
        f"teddy-hil flash: {bench} has several boards (a, b): say which with --board NAME"
    )


PLUGIN_TEST = """
from hil.serial.options import SerialOptions

def test_port(target_options):
    assert target_options(SerialOptions).port == "{expected}"
"""


def _pytest(pytester: pytest.Pytester, expected: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest('pytest_plugins = ["hil.pytest_plugin"]')
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(PLUGIN_TEST.format(expected=expected))
    return pytester.runpytest_inprocess(*args)


@pytest.mark.unit
def test_pytest_fixture_gives_the_flag_else_the_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEDDY_SERIAL_PORT", "socket://from-env:1")
    _pytest(pytester, "socket://from-env:1").assert_outcomes(passed=1)
    _pytest(pytester, "socket://flag:2", "--port", "socket://flag:2").assert_outcomes(passed=1)
    monkeypatch.setenv("TEDDY_SERIAL_RESTORE", "everything")
    result = _pytest(pytester, "-", "--target", "serial")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*serial option restore*'everything' is not a restore method*"])
