"""The emulated board's speaker output (out-<id>.wav + .json) with each playback quirk.

SPEC Appendix C: with a playback quirk on, the console events and rx-<id>.wav are those
of a correct device, and only out-<id>.wav shows the misbehaviour (its header's rate,
frames missing, saturated samples, zeros); without one it is rx-<id>.wav scaled by the
volume at 16000 Hz. The model the files are held to is tests/speaker_output.py; each
check is also shown to fail on the wrong case (a quirk the speaker ignored, a clean
speaker taken for a quirky one).
"""

from __future__ import annotations

import time

import pytest

from tests.emulator.helpers import Rig, boot_to_idle
from tests.speaker_output import CASES, check_output, read_wav

pytestmark = pytest.mark.emu

VOLUME = 60


def _command(case: tuple[str, str], on: bool) -> str:
    quirk, value = case
    if not on:
        return f"quirk off {quirk}"
    return f"quirk on {quirk} {value}".rstrip()


async def _turn(rig: Rig) -> tuple[str, list[tuple[str, dict[str, object]]], tuple[float, float]]:
    """One text turn: the reply's id, its events (ids dropped) and when it played."""
    assert rig.host is not None
    mark = rig.lines.mark()
    before = time.time()
    await rig.host.write_line("text tell me a story")
    end = await rig.lines.wait("audio.rx.end", since=mark)
    await rig.lines.wait("state", lambda d: d["to"] == "idle", since=mark)
    events = [
        (e.name, {k: v for k, v in e.data.items() if k != "audio_session_id"})
        for e in rig.lines.events[mark:]
    ]
    return str(end.data["audio_session_id"]), events, (before, time.time())


async def test_speaker_output_shows_each_playback_quirk_and_nothing_else(rig: Rig) -> None:
    await boot_to_idle(rig, volume=VOLUME)
    audio = rig.root / "audio"
    baseline: list[tuple[str, dict[str, object]]] | None = None
    sessions: dict[tuple[str, str] | None, str] = {}
    for case in CASES:
        if case is not None:
            await rig.host.write_line(_command(case, on=True))  # type: ignore[union-attr]
        session, events, played = await _turn(rig)
        if case is not None:
            await rig.host.write_line(_command(case, on=False))  # type: ignore[union-attr]
        sessions[case] = session
        problem = check_output(audio, session, case, volume=VOLUME, played_between=played)
        assert problem is None, f"{case}: {problem}"
        baseline = baseline or events
        assert events == baseline, f"{case}: the console events changed"
        assert any(name == "audio.rx.end" for name, _ in events)
    clean = sessions[None]
    assert len(read_wav(audio / f"rx-{clean}.wav").samples) > 5 * 2048, "reply too short"
    for case in CASES[1:]:
        # rx-<id>.wav is what the server sent, quirk or not (the same reply each time).
        rx = read_wav(audio / f"rx-{sessions[case]}.wav").samples
        assert rx.tolist() == read_wav(audio / f"rx-{clean}.wav").samples.tolist(), case
        # The check catches a speaker that ignored the quirk, and one that applied it
        # where none was on.
        wide = (0.0, time.time())
        assert check_output(audio, clean, case, volume=VOLUME, played_between=wide), case
        assert check_output(audio, sessions[case], None, volume=VOLUME, played_between=wide)


async def test_an_integer_quirk_out_of_range_is_refused(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    mark = rig.lines.mark()
    await host.write_line("quirk on playback_rate 100")
    refused = await rig.lines.wait("cmd.error", since=mark)
    assert refused.data["reason"] == "bad_value"
    assert refused.data["message"] == "quirk on playback_rate: HZ must be an integer 4000..48000"
