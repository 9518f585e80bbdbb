"""teddy-fw-host's speaker output (out-<id>.wav + .json) with each playback quirk.

The C twin of tests/emulator/test_speaker_output.py (SPEC Appendix C): one scenario
turns each playback quirk on with the console (`quirk on`), asks for a reply, and turns
it off again; a second run switches playback_rate on from boot (`device: quirks:` ->
`--quirk`). Every reply's out-<id>.wav must be the model of tests/speaker_output.py
(rx-<id>.wav with the quirk applied, scaled by the volume, at the DAC's rate) while the
console events of every reply are those of the reply without a quirk.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hil.pytest_plugin import OptionsFor
from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.targets.base import ChosenTarget
from hil.targets.firmware_host import FirmwareHostOptions, FirmwareHostTarget
from tests.speaker_output import CASES, check_output

pytestmark = pytest.mark.host_fw

VOLUME = 60
Segment = list[tuple[str, dict[str, object]]]


@pytest.fixture
def fw_host(target_options: OptionsFor) -> ChosenTarget:
    return ChosenTarget(FirmwareHostTarget, target_options(FirmwareHostOptions))


def _turn_steps(case: tuple[str, str] | None) -> list[str]:
    steps = []
    if case is not None:
        command = f"quirk on {case[0]} {case[1]}".rstrip()  # mute_playback takes no value
        steps.append(f'  - console: "{command}"')
    steps += [
        '  - console: "text tell me a story"',
        "  - expect: {event: audio.rx.end, timeout: 30s}",
        "  - expect: {event: state, match: {to: idle}, timeout: 30s}",
    ]
    if case is not None:
        steps.append(f'  - console: "quirk off {case[0]}"')
    return steps


def _scenario(path: Path, cases: tuple[tuple[str, str] | None, ...], quirks: str) -> Path:
    steps = [line for case in cases for line in _turn_steps(case)]
    path.write_text(
        "\n".join(
            [
                "version: 1",
                f"name: {path.stem}",
                "description: replies with playback quirks (SPEC Appendix C)",
                "requires: [audio_out, quirks]",
                f"device: {{volume: {VOLUME}{quirks}}}",
                "steps:",
                "  - expect: {event: ws.open, timeout: 30s}",
                "  - expect: {event: ota.none, timeout: 30s}",
                *steps,
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def _replies(events_file: Path) -> list[tuple[str, Segment]]:
    """Each text turn's reply id and events (cmd.ok text .. state idle, ids dropped)."""
    out: list[tuple[str, Segment]] = []
    segment: Segment | None = None
    session = ""
    for line in events_file.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        name, data = entry.get("event"), entry.get("data") or {}
        if name == "cmd.ok" and data.get("cmd") == "text":
            segment = []
        if segment is None:
            continue
        segment.append((name, {k: v for k, v in data.items() if k != "audio_session_id"}))
        if name == "audio.rx.end":
            session = str(data["audio_session_id"])
        if name == "state" and data.get("to") == "idle":
            out.append((session, segment))
            segment = None
    return out


async def _run(tmp_path: Path, fw_host: ChosenTarget, scenario: Path) -> tuple[float, float]:
    before = time.time()
    result = await run_scenario(
        load_scenario(scenario), target=fw_host, artifact_dir=tmp_path, pipeline=shared_pipeline()
    )
    assert result.status is Status.PASSED, result.detail
    return before, time.time()


async def test_speaker_output_shows_each_playback_quirk(
    tmp_path: Path, fw_host: ChosenTarget
) -> None:
    run = tmp_path / "run"
    played = await _run(run, fw_host, _scenario(tmp_path / "console.yaml", CASES, ""))
    replies = _replies(run / "events.jsonl")
    assert len(replies) == len(CASES)
    baseline = replies[0][1]
    for case, (session, events) in zip(CASES, replies, strict=True):
        problem = check_output(run / "audio", session, case, volume=VOLUME, played_between=played)
        assert problem is None, f"{case}: {problem}"
        assert events == baseline, f"{case}: the console events changed"
    clean = replies[0][0]
    for case in CASES[1:]:  # the model tells a quirk from none
        assert check_output(run / "audio", clean, case, volume=VOLUME, played_between=played)


async def test_playback_rate_from_boot(tmp_path: Path, fw_host: ChosenTarget) -> None:
    run = tmp_path / "run"
    case = ("playback_rate", "22050")
    scenario = _scenario(tmp_path / "boot.yaml", (None,), ", quirks: [{playback_rate: 22050}]")
    played = await _run(run, fw_host, scenario)
    ((session, _),) = _replies(run / "events.jsonl")
    problem = check_output(run / "audio", session, case, volume=VOLUME, played_between=played)
    assert problem is None, problem
