"""Every device quirk is caught by a scenario of the suite, on the emulator.

For each row of tests.hil.quirk_catchers: the scenario passes on a correct device and
fails, with the row's reason, once the quirk is on (the `device: quirks:` of SPEC
Appendix C). This is what `teddy-hil selftest` builds on; a quirk without a row is a gap.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.targets.registry import choose
from protocol.device_model import QUIRKS
from tests.hil.quirk_catchers import CATCHERS, Catcher, scenario

pytestmark = pytest.mark.emu


def test_every_quirk_has_a_catcher() -> None:
    assert [c.quirk for c in CATCHERS] == list(QUIRKS)


@pytest.mark.parametrize("catcher", CATCHERS, ids=[c.quirk for c in CATCHERS])
async def test_the_quirk_fails_a_scenario_that_passes_without_it(
    catcher: Catcher, tmp_path: Path
) -> None:
    target = choose("emulator")
    clean = await run_scenario(
        scenario(catcher, quirk_on=False),
        target=target,
        artifact_dir=tmp_path / "clean",
        pipeline=shared_pipeline(),
    )
    assert clean.status is Status.PASSED, clean.detail
    quirky = await run_scenario(
        scenario(catcher),
        target=target,
        artifact_dir=tmp_path / "quirk",
        pipeline=shared_pipeline(),
    )
    assert quirky.status is Status.FAILED, f"{catcher.quirk} went unnoticed: {quirky.detail}"
    assert re.match(catcher.reason, quirky.reason or ""), quirky.reason
