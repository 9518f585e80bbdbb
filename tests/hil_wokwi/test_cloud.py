"""The real tier: a scenario on Wokwi's cloud (or whatever `--wokwi-api-url` names).

Marked `wokwi`: skipped with a reason without `WOKWI_CLI_TOKEN` (hil.pytest_plugin).
With a token it needs the ESP-IDF build (`idf.py build` in firmware/, or
`--wokwi-build` / `$TEDDY_WOKWI_BUILD`) and a way for the simulation to reach this
machine's reference server: Wokwi's private gateway (`host.wokwi.internal`) or
`--wokwi-public-url` (docs/wokwi.md). The options are what this pytest run was given
(the `target_options` fixture).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import HilError
from hil.pytest_plugin import OptionsFor
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget
from hil.targets.wokwi_target import WokwiTarget
from hil.wokwi.options import WokwiOptions
from hil.wokwi.project import find_build
from tests.hil_wokwi.conftest import REPO

pytestmark = [pytest.mark.wokwi, pytest.mark.slow]


async def test_claim_happy_on_wokwi(tmp_path: Path, target_options: OptionsFor) -> None:
    options = target_options(WokwiOptions)
    try:
        find_build(options.build, elf=options.elf)
    except HilError as exc:
        pytest.skip(f"the wokwi tier needs the ESP-IDF build: {exc}")
    result = await run_scenario(
        load_scenario(REPO / "scenarios" / "claim" / "happy.yaml"),
        target=ChosenTarget(WokwiTarget, options),
        artifact_dir=tmp_path / "art",
        pipeline=shared_pipeline(),
    )
    assert result.status is Status.PASSED, result.detail
