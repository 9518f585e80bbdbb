"""Several devices on the `firmware-host` target: two teddy-fw-host processes, one server.

Each scenario of `scenarios/multi/` runs two C firmware processes side by side against one
reference server and tap, each with its own work dir (`device-a/`, `device-b/`), flash
and stderr log (where a sanitizer build reports). Build first (`make firmware` or
`make firmware-asan`, then `--fw-host build/host-asan/app/teddy-fw-host`); without the
binary these are skipped with the build command as the reason (marker `host_fw`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.pytest_plugin import OptionsFor
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget
from hil.targets.firmware_host import FirmwareHostOptions, FirmwareHostTarget

REPO = Path(__file__).resolve().parents[2]
MULTI = sorted((REPO / "scenarios" / "multi").glob("*.yaml"))

pytestmark = pytest.mark.host_fw


@pytest.fixture
def fw_host(target_options: OptionsFor) -> ChosenTarget:
    return ChosenTarget(FirmwareHostTarget, target_options(FirmwareHostOptions))


@pytest.mark.parametrize("path", MULTI, ids=[p.stem for p in MULTI])
async def test_two_firmware_devices_pass_the_multi_scenarios(
    path: Path, tmp_path: Path, fw_host: ChosenTarget
) -> None:
    result = await run_scenario(
        load_scenario(path), target=fw_host, artifact_dir=tmp_path, pipeline=shared_pipeline()
    )
    assert result.status is Status.PASSED, result.detail
    for name in ("a", "b"):
        work = tmp_path / f"device-{name}"
        assert (work / "flash" / "nvs.json").is_file()  # each process has its own flash
        assert "Sanitizer" not in (work / "teddy-fw-host.stderr.log").read_text(errors="replace")
        assert (tmp_path / f"console-{name}.log").read_text().count(" boot ") >= 1
