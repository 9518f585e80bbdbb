"""The C firmware's device quirks (SPEC Appendix C) fail the same scenarios as Python's.

tests.hil.quirk_catchers on teddy-fw-host: `--quirk NAME[=VALUE]` from the scenario's
`device: quirks:` turns each quirk on, and the scenario fails with the row's reason
(tests/hil/test_quirks_caught.py shows the scenarios pass without it), plus the
command line's refusals of a bad `--quirk`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from hil.pytest_plugin import OptionsFor
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.targets.base import ChosenTarget
from hil.targets.firmware_host import FirmwareHostOptions, FirmwareHostTarget
from tests.hil.quirk_catchers import CATCHERS, Catcher, scenario

pytestmark = pytest.mark.host_fw


@pytest.fixture
def fw_host(target_options: OptionsFor) -> ChosenTarget:
    return ChosenTarget(FirmwareHostTarget, target_options(FirmwareHostOptions))


@pytest.mark.parametrize("catcher", CATCHERS, ids=[c.quirk for c in CATCHERS])
async def test_the_quirk_fails_its_scenario_on_the_firmware(
    catcher: Catcher, tmp_path: Path, fw_host: ChosenTarget
) -> None:
    result = await run_scenario(
        scenario(catcher), target=fw_host, artifact_dir=tmp_path, pipeline=shared_pipeline()
    )
    assert result.status is Status.FAILED, f"{catcher.quirk} went unnoticed: {result.detail}"
    assert re.match(catcher.reason, result.reason or ""), result.reason
    stderr = tmp_path / "device" / "teddy-fw-host.stderr.log"
    assert "Sanitizer" not in stderr.read_text(errors="replace")


@pytest.mark.parametrize(
    ("arg", "problem"),
    [
        ("nope", "unknown quirk 'nope'"),
        ("reuse_nonce=1", "quirk reuse_nonce takes no value"),
        ("present_token", "quirk present_token needs a value: present_token=TOKEN"),
        ("present_token=", "needs a value"),
        ("playback_rate=fast", "quirk on playback_rate: HZ must be an integer 4000..48000"),
        ("drop_frames=0", "quirk on drop_frames: N must be an integer 1..1000"),
    ],
)
def test_a_bad_quirk_flag_is_refused(
    arg: str, problem: str, tmp_path: Path, target_options: OptionsFor
) -> None:
    binary = target_options(FirmwareHostOptions).binary
    run = subprocess.run(
        [str(binary), "--server", "http://127.0.0.1:9", "--flash", str(tmp_path), "--quirk", arg],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert run.returncode == 2 and problem in run.stderr, run.stderr
