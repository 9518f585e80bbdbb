"""A sound card as a board's ears and mouth: `SoundCard`, `SoundCardPath`, calibration.

On a lab bench a board's speaker amplifier (or a microphone in front of the speaker) is
wired to a sound card's input, and the card's output to the board's microphone or
line-in. `SoundCardPath` records that input for the whole run, on the card's own clock
mapped to wall time, and cuts out the window in which a reply played; `speak` plays a
phrase into the microphone. Every card delays what it records and plays by a fixed
latency; `calibrate_latency` measures the round trip with a chirp over a loopback cable
(output to input) and the path subtracts it from every timestamp.

`SoundCard` is the interface: `SoundDeviceCard` drives a real card through sounddevice
(imported only when used); `NumpyCard` is a card made of arrays with its own sample
clock, for tests and for a bench that has no card: what it plays comes back at its input
after `latency_s` (the loopback), mixed with what the attached `board` function plays.
"""

from __future__ import annotations

import abc
import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import chirp, correlate

from hil.audio.recording import Recording
from hil.targets.audio_path import POLL_S, AudioPath, AudioPathError, Spoken, Window

CHIRP_S = 0.5  # calibration sweep 300 Hz..6 kHz
CHIRP_LOW_HZ, CHIRP_HIGH_HZ = 300.0, 6000.0
MAX_LATENCY_S = 1.0  # a longer round trip is a wiring fault, not latency


@dataclass
class Captured:
    """What a card's input recorded so far: samples and the wall time of the first one."""

    rate: int
    started_at: float
    samples: list[np.ndarray] = field(default_factory=list)

    def covered_until(self) -> float:
        """Wall time just after the last sample recorded so far."""
        return self.started_at + sum(block.size for block in self.samples) / self.rate

    async def until(self, wall_s: float, *, within: float) -> None:
        """Wait until the recording reaches `wall_s` (the card's clock runs on its own)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.covered_until() < wall_s:
            if loop.time() >= deadline:
                raise AudioPathError(
                    f"the sound card recorded only until {self.covered_until() - wall_s:+.2f} s"
                    f" of the moment asked for, after {within:g} s (is its input running?)"
                )
            await asyncio.sleep(POLL_S)

    def between(self, start: float, end: float) -> Recording:
        """The recorded samples from wall time `start` to `end` (clipped to what exists)."""
        whole = np.concatenate(self.samples) if self.samples else np.zeros(0)
        first = max(0, round((start - self.started_at) * self.rate))
        last = max(first, round((end - self.started_at) * self.rate))
        cut = whole[first:last]
        return Recording(cut, self.rate, started_at=self.started_at + first / self.rate)


class SoundCard(abc.ABC):
    """A card with one input and one output, both at `rate`."""

    rate: int = 48000
    name: str = ""

    @abc.abstractmethod
    def start(self) -> Captured:
        """Start recording the input; the returned buffer fills as samples arrive."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop recording."""

    @abc.abstractmethod
    async def play(self, samples: np.ndarray) -> float:
        """Play float samples (-1..1 at `rate`); returns the wall time the first one left."""


class SoundCardPath(AudioPath):
    """A board's speaker heard, and its microphone fed, through a `SoundCard`."""

    can_speak = True

    def __init__(self, card: SoundCard, *, latency_s: float = 0.0) -> None:
        self.card = card
        self.latency_s = latency_s
        self.description = f"sound card {card.name or type(card).__name__}"
        self._captured: Captured | None = None

    async def open(self) -> None:
        self._captured = self.card.start()

    async def close(self) -> None:
        self.card.stop()

    async def played(self, session: str, *, window: Window, within: float) -> Recording:
        if self._captured is None:
            raise AudioPathError(f"{self.description}: not recording (open was not called)")
        end = window.end + self.latency_s
        try:
            await self._captured.until(end, within=within)
        except AudioPathError as exc:
            raise AudioPathError(f"{self.description}: reply {session!r}: {exc}") from None
        heard = self._captured.between(window.start + self.latency_s, end)
        return Recording(heard.samples, heard.rate, started_at=_minus(heard, self.latency_s))

    async def speak(self, pcm: bytes, rate: int) -> Spoken:
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
        samples = resample(samples / 32768.0, rate, self.card.rate)
        began = await self.card.play(samples) + self.latency_s
        return Spoken(began, began + samples.size / self.card.rate)


def _minus(rec: Recording, seconds: float) -> float | None:
    return None if rec.started_at is None else rec.started_at - seconds


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate or samples.size == 0:
        return samples
    from math import gcd

    from scipy.signal import resample_poly

    common = gcd(from_rate, to_rate)
    return np.asarray(resample_poly(samples, to_rate // common, from_rate // common))


def calibration_chirp(rate: int) -> np.ndarray:
    t = np.arange(int(CHIRP_S * rate)) / rate
    return np.asarray(0.5 * chirp(t, CHIRP_LOW_HZ, CHIRP_S, CHIRP_HIGH_HZ, method="log"))


async def calibrate_latency(card: SoundCard) -> float:
    """The card's round-trip latency (output -> loopback cable -> input), in seconds.

    Plays a log chirp and finds it in the recording by cross-correlation; raises
    AudioPathError when the chirp does not come back (no loopback, muted input).
    """
    sweep = calibration_chirp(card.rate)
    captured = card.start()
    try:
        sent_at = await card.play(sweep)
        await captured.until(sent_at + CHIRP_S + MAX_LATENCY_S, within=2 * MAX_LATENCY_S + 5.0)
    finally:
        card.stop()
    heard = captured.between(sent_at, sent_at + CHIRP_S + MAX_LATENCY_S).samples
    if heard.size < sweep.size:
        raise AudioPathError(f"calibration: {card.name}: the input recorded almost nothing")
    score = correlate(heard, sweep, mode="valid")
    best = int(np.argmax(np.abs(score)))
    peak = float(np.abs(score[best])) / float(np.dot(sweep, sweep))
    if peak < 0.1:
        raise AudioPathError(
            f"calibration: {card.name}: the chirp did not come back (match {peak:.2f} < 0.10);"
            " connect the card's output to its input and unmute the input"
        )
    return best / card.rate


Board = Callable[[float, int], np.ndarray]  # (wall time of the first sample, count) -> samples


class NumpyCard(SoundCard):
    """A sound card made of arrays, with its own sample clock (tests, benches without one).

    Its clock starts at `start` and advances by `block` samples per tick on a thread;
    each block of input is the output played `latency_s` earlier (the loopback) plus
    what `board` says the board's speaker produced then.
    """

    def __init__(
        self,
        *,
        rate: int = 48000,
        latency_s: float = 0.0,
        board: Board | None = None,
        block: int = 480,
        name: str = "numpy",
    ) -> None:
        self.rate = rate
        self.name = name
        self.latency_s = latency_s
        self.loopback = True  # False: a card whose output is wired to nothing it hears
        self.board = board
        self.block = block
        self._out: list[tuple[float, np.ndarray]] = []  # (wall start, samples) to loop back
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Captured:
        captured = Captured(self.rate, time.time())
        self._stopped.clear()
        self._thread = threading.Thread(target=self._tick, args=(captured,), daemon=True)
        self._thread.start()
        return captured

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    async def play(self, samples: np.ndarray) -> float:
        began = time.time()
        with self._lock:
            self._out.append((began, np.asarray(samples, dtype=np.float64)))
        await asyncio.sleep(samples.size / self.rate)  # play() returns once played, like a card
        return began

    def _tick(self, captured: Captured) -> None:
        done = 0
        while not self._stopped.is_set():
            pause = captured.started_at + (done + self.block) / self.rate - time.time()
            if pause > 0 and self._stopped.wait(pause):  # a block is ready when its time came
                return
            at = captured.started_at + done / self.rate
            captured.samples.append(self._input(at, self.block))
            done += self.block

    def _input(self, at: float, count: int) -> np.ndarray:
        block = np.zeros(count)
        with self._lock:
            played = list(self._out) if self.loopback else []
        for began, samples in played:
            offset = round((at - self.latency_s - began) * self.rate)
            lo, hi = max(0, offset), min(samples.size, offset + count)
            if lo < hi:
                block[lo - offset : hi - offset] += samples[lo:hi]
        if self.board is not None:
            block += self.board(at - self.latency_s, count)
        return block


class SoundDeviceCard(SoundCard):
    """A real card through sounddevice (PortAudio), input and output at `rate`."""

    def __init__(self, device: str | None = None, *, rate: int = 48000) -> None:
        self.device = device
        self.rate = rate
        self.name = device or "default sound card"
        self._stream: object | None = None

    def start(self) -> Captured:
        try:
            import sounddevice
        except (ImportError, OSError) as exc:
            raise AudioPathError(f"no sound card: sounddevice cannot load ({exc})") from exc
        captured = Captured(self.rate, time.time())
        first = True

        def on_block(data: np.ndarray, frames: int, when: object, status: object) -> None:
            nonlocal first
            del frames, status
            if first:  # the ADC time of the first sample, moved onto the wall clock
                adc = float(getattr(when, "inputBufferAdcTime", 0.0) or 0.0)
                now = float(getattr(when, "currentTime", 0.0) or 0.0)
                captured.started_at = time.time() - max(0.0, now - adc)
                first = False
            captured.samples.append(data[:, 0].astype(np.float64).copy())

        try:
            stream = sounddevice.InputStream(
                device=self.device, samplerate=self.rate, channels=1, callback=on_block
            )
            stream.start()
        except Exception as exc:  # PortAudioError and friends: name the device
            raise AudioPathError(f"sound card {self.name!r} cannot record: {exc}") from exc
        self._stream = stream
        return captured

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()  # type: ignore[attr-defined]
            stream.close()  # type: ignore[attr-defined]

    async def play(self, samples: np.ndarray) -> float:
        import sounddevice

        try:
            out = sounddevice.OutputStream(device=self.device, samplerate=self.rate, channels=1)
            out.start()
        except Exception as exc:
            raise AudioPathError(f"sound card {self.name!r} cannot play: {exc}") from exc
        began = time.time() + float(out.latency)
        data = np.asarray(samples, dtype=np.float32).reshape(-1, 1)
        try:
            await asyncio.to_thread(out.write, data)
        finally:
            out.stop()
            out.close()
        return began
