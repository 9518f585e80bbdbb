"""Step kinds at run time: a newly registered kind runs like a built-in; the server side."""

from __future__ import annotations

import pytest

from hil.errors import MissingCapabilityError
from hil.result import Status
from hil.runner.run import run_scenario
from hil.scenario.loader import load_scenario
from hil.scenario.model import ReleaseSpec
from hil.steps.kind import StepKind
from hil.steps.server_side import FaultSpec, ServerSide
from hil.targets.registry import choose
from server.speech.pipeline import SpeechPipeline
from tests.hil import beep_kind
from tests.hil.conftest import WriteFile
from tests.hil.scripted_target import Calls

HEAD = "version: 1\nname: t\ndescription: d\n"


@pytest.mark.emu
async def test_a_registered_kind_runs_through_the_runner(
    write: WriteFile,
    scripted: Calls,
    pipeline: SpeechPipeline,
    registered_beep: StepKind[beep_kind.Beep],
) -> None:
    path = write(
        "x.yaml",
        HEAD + "steps:\n  - expect: ws.open\n  - beep: {times: 2}\n"
        "  - console: 'set child_name n${beeps}'\n  - {beep: {times: 1}, timeout: 100ms}\n",
    )
    scenario = load_scenario(path)
    result = await run_scenario(
        scenario, target=choose("scripted"), artifact_dir=path.parent / "a", pipeline=pipeline
    )
    assert result.status is Status.PASSED, result.detail
    assert scripted.lines == ["text beep", "text beep", "set child_name n2", "text beep"]
    assert [s.kind for s in result.steps] == ["expect", "beep", "console", "beep"]


class PublishAndConfigOnly(ServerSide):
    """A server side offering neither events nor faults."""

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset()

    async def publish(self, release: ReleaseSpec) -> None:
        raise AssertionError("not called")

    async def set_config(self, key: str, value: object) -> None:
        raise AssertionError("not called")


@pytest.mark.unit
async def test_a_server_side_without_a_capability_says_which() -> None:
    side = PublishAndConfigOnly()
    with pytest.raises(
        MissingCapabilityError, match="PublishAndConfigOnly does not offer 'server_faults'"
    ):
        await side.inject_fault(FaultSpec("invalid_json"))
    with pytest.raises(MissingCapabilityError, match="does not offer 'server_events'"):
        _ = side.events
