"""Audio paths: the speaker-output files and a sound card (the numpy card, own clock)."""

from __future__ import annotations

import asyncio
import json
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from hil.targets.audio_path import AudioPathError, SpeakerFiles, Window
from hil.targets.soundcard import NumpyCard, SoundCardPath, calibrate_latency

RATE = 16000


def write_wav(path: Path, pcm: bytes, *, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


pytestmark = pytest.mark.unit


def tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.asarray(0.3 * np.sin(2 * np.pi * freq * t))


def sidecar(folder: Path, session: str, **members: object) -> None:
    (folder / f"out-{session}.json").write_text(json.dumps(members), encoding="utf-8")


async def test_a_finished_speaker_file_is_read_at_its_own_rate(tmp_path: Path) -> None:
    pcm = (tone(0.5, 22050) * 32767).astype("<i2").tobytes()
    write_wav(tmp_path / "out-u-1.wav", pcm, rate=22050)
    sidecar(tmp_path, "u-1", sample_rate=22050, first_sample_wall_s=1234.5, done=True)
    heard = await SpeakerFiles(tmp_path).played("u-1", window=Window(0, 0), within=1.0)
    assert heard.rate == 22050
    assert heard.started_at == pytest.approx(1234.5)
    assert heard.samples.size == int(0.5 * 22050)


async def test_a_reply_still_playing_is_waited_for_then_refused(tmp_path: Path) -> None:
    write_wav(tmp_path / "out-u-2.wav", b"\0\0" * 100)
    sidecar(tmp_path, "u-2", done=False)
    with pytest.raises(AudioPathError, match="still playing"):
        await SpeakerFiles(tmp_path).played("u-2", window=Window(0, 0), within=0.2)
    with pytest.raises(AudioPathError, match="never written"):
        await SpeakerFiles(tmp_path).played("u-3", window=Window(0, 0), within=0.1)


async def test_a_reply_that_ends_while_waiting_is_read(tmp_path: Path) -> None:
    write_wav(tmp_path / "out-u-4.wav", b"\1\0" * 1600)
    sidecar(tmp_path, "u-4", done=False)
    asyncio.get_running_loop().call_later(0.15, lambda: sidecar(tmp_path, "u-4", done=True))
    heard = await SpeakerFiles(tmp_path).played("u-4", window=Window(0, 0), within=2.0)
    assert heard.samples.size == 1600


async def test_calibration_finds_the_cards_round_trip() -> None:
    card = NumpyCard(rate=RATE, latency_s=0.037)
    latency = await calibrate_latency(card)
    assert latency == pytest.approx(0.037, abs=0.001)


async def test_calibration_without_a_loopback_says_what_to_connect() -> None:
    card = NumpyCard(rate=RATE, latency_s=0.0)
    card.loopback = False
    with pytest.raises(AudioPathError, match="connect the card's output to its input"):
        await calibrate_latency(card)


async def test_the_card_hears_what_the_board_played_in_its_window() -> None:
    """The board plays a tone at a known wall time; the path cuts it out and stamps it."""
    played_at = time.time() + 0.3
    burst = tone(0.4, RATE, 1000.0)

    def board(at: float, count: int) -> np.ndarray:
        out = np.zeros(count)
        first = round((at - played_at) * RATE)
        lo, hi = max(0, first), min(burst.size, first + count)
        if lo < hi:
            out[lo - first : hi - first] = burst[lo:hi]
        return out

    card = NumpyCard(rate=RATE, latency_s=0.02, board=board)
    path = SoundCardPath(card, latency_s=0.02)
    await path.open()
    try:
        heard = await path.played(
            "u-1", window=Window(played_at - 0.1, played_at + 0.6), within=3.0
        )
    finally:
        await path.close()
    assert heard.started_at == pytest.approx(played_at - 0.1, abs=1 / RATE)
    loud = np.flatnonzero(np.abs(heard.samples) > 0.1)
    # The tone starts 0.1 s into the window once the card's latency is taken off.
    assert loud[0] / RATE == pytest.approx(0.1, abs=0.002)
    assert (loud[-1] - loud[0]) / RATE == pytest.approx(0.4, abs=0.002)


async def test_speaking_reaches_the_microphone_at_the_times_it_reports() -> None:
    """Over the loopback the card's input is the board's microphone: the phrase is there."""
    card = NumpyCard(rate=RATE, latency_s=0.01)
    path = SoundCardPath(card, latency_s=0.01)
    await path.open()
    try:
        pcm = (tone(0.25, RATE) * 32767).astype("<i2").tobytes()
        spoken = await path.speak(pcm, RATE)
        assert path._captured is not None  # the path's own recording of the card's input
        await path._captured.until(spoken.end + 0.05, within=2.0)
        at_mic = path._captured.between(spoken.start, spoken.end).samples
        before = path._captured.between(spoken.start - 0.05, spoken.start).samples
    finally:
        await path.close()
    assert spoken.end - spoken.start == pytest.approx(0.25, abs=1e-6)
    assert float(np.sqrt(np.mean(at_mic**2))) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)
    assert float(np.max(np.abs(before))) < 0.01  # nothing reached it before it was spoken
