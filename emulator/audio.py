"""Audio in and out of the emulated toy: sources, sinks and their own clock.

Owns the SPEC §7.1 format conversion (anything -> PCM s16le 16 kHz mono) and pacing: a
source delivers 4096-byte chunks (SPEC §7.2) either at real time (one per 128 ms, like a
microphone filling its buffer) or as fast as the consumer takes them; a sink plays
frames either at real time or instantly. Sources: a WAV file, a phrase synthesised by
espeak-ng (`voice.espeak.synthesize_clip`), a tone, silence, the built-in
clip library, and a live "microphone" for `button press`. `sounddevice` (real
microphone/speaker) is imported only when asked for.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from emulator.errors import AudioSourceError
from protocol.constants import BYTES_PER_SECOND, SAMPLE_RATE, UPLINK_CHUNK_BYTES
from voice.clips import CLIP_LIBRARY
from voice.wav import write_wav

Pacing = Literal["realtime", "fast"]
PACINGS: Final[tuple[Pacing, ...]] = ("realtime", "fast")
PcmLoader = Callable[[], bytes]

# Synthetic clips for edge cases: (kind, milliseconds).
SYNTHETIC_CLIPS: Final[dict[str, tuple[str, int]]] = {
    "silence": ("silence", 1000),
    "tone": ("tone", 1000),
    "blip": ("tone", 50),  # 1600 bytes: under the 3200-byte minimum (audio_too_short)
}


def as_pacing(value: str) -> Pacing:
    """Validate a pacing name (settings and CLI pass plain strings)."""
    for pacing in PACINGS:
        if value == pacing:
            return pacing
    raise ValueError(f"pacing must be one of {', '.join(PACINGS)}, got {value!r}")


def silence(duration_ms: int) -> bytes:
    return bytes(2 * (SAMPLE_RATE * duration_ms // 1000))


def tone(duration_ms: int, *, freq_hz: float = 440.0, amplitude: float = 0.3) -> bytes:
    count = SAMPLE_RATE * duration_ms // 1000
    t = np.arange(count, dtype=np.float64) / SAMPLE_RATE
    samples = amplitude * 32767.0 * np.sin(2 * math.pi * freq_hz * t)
    return np.round(samples).astype("<i2").tobytes()


def synthesize(text: str) -> bytes:
    """espeak-ng en-us, resampled to 16 kHz, with a little silence around it."""
    from voice.errors import VoiceError
    from voice.espeak import synthesize_clip

    try:
        return synthesize_clip(text)
    except VoiceError as exc:
        raise AudioSourceError("bad_argument", f"cannot synthesise: {exc}") from exc


def load_wav(path: Path) -> bytes:
    """Any 8/16-bit PCM WAV as PCM s16le 16 kHz mono (SPEC §7.1)."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise AudioSourceError("bad_value", f"{path}: not a readable WAV ({exc})") from exc
    if width == 1:
        samples = (np.frombuffer(frames, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 2:
        samples = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.float64)
    else:
        raise AudioSourceError("bad_value", f"{path}: {8 * width}-bit WAV; use 8 or 16 bit")
    if channels > 1:
        samples = samples[: samples.size // channels * channels].reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE and samples.size:
        from scipy.signal import resample_poly

        common = math.gcd(SAMPLE_RATE, rate)
        samples = resample_poly(samples, SAMPLE_RATE // common, rate // common)
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def append_wav(path: Path, pcm: bytes, *, create: bool) -> None:
    """Add PCM to the end of a 16 kHz mono WAV (`create`: start it afresh, maybe empty).

    The header's RIFF and data sizes are rewritten after every append, so the file is a
    valid WAV whenever a call returns (a power cut keeps what was sent so far).
    """
    if create or not path.is_file():
        write_wav(path, pcm)
        return
    with path.open("r+b") as handle:
        handle.seek(0, os.SEEK_END)
        handle.write(pcm)
        size = handle.tell()
        handle.seek(4)
        handle.write((size - 8).to_bytes(4, "little"))
        handle.seek(40)  # wave.open writes the canonical 44-byte header
        handle.write((size - 44).to_bytes(4, "little"))


def scale_volume(pcm: bytes, volume: int) -> bytes:
    """PCM s16le at `volume` percent (0..100), as a DAC volume would play it.

    Each sample times volume / 100, truncated toward zero like the board's integer DAC
    scaling (idf_speaker.c, linux_audio.c), so both emulated boards' out-<id>.wav agree.
    """
    if volume >= 100:
        return pcm
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int32)
    scaled = samples * max(0, volume)
    truncated = np.where(scaled < 0, -(-scaled // 100), scaled // 100)
    return truncated.astype("<i2").tobytes()


def resolve_clip(name: str, audio_dir: Path) -> PcmLoader:
    """`talk <clip>`: a path, a file in `audio_dir` (with or without .wav), or a library clip."""
    for candidate in (Path(name), audio_dir / name, audio_dir / f"{name}.wav"):
        if candidate.is_file():
            return functools.partial(load_wav, candidate)
    if name in CLIP_LIBRARY:
        return lambda: synthesize(CLIP_LIBRARY[name])
    if name in SYNTHETIC_CLIPS:
        kind, ms = SYNTHETIC_CLIPS[name]
        return lambda: tone(ms) if kind == "tone" else silence(ms)
    known = ", ".join(sorted((*CLIP_LIBRARY, *SYNTHETIC_CLIPS)))
    raise AudioSourceError("bad_value", f"unknown clip {name!r}; files in {audio_dir} or {known}")


class Pacer:
    """The source's/sink's own clock: real time against a fixed origin, or no waiting."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._origin: float | None = None
        self._elapsed_s = 0.0

    async def advance(self, nbytes: int, *, rate: int = SAMPLE_RATE) -> None:
        """Wait until `nbytes` more PCM would have been captured/played at `rate` Hz."""
        if self.pacing == "fast":
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        if self._origin is None:
            self._origin = loop.time()
        self._elapsed_s += nbytes / (BYTES_PER_SECOND * rate / SAMPLE_RATE)
        # Against the origin, not per sleep: no drift over a long utterance.
        await asyncio.sleep(max(0.0, self._origin + self._elapsed_s - loop.time()))


class PcmSource:
    """A finite source (clip, phrase, file); a live one keeps going until `stop`."""

    def __init__(
        self,
        loader: PcmLoader,
        *,
        pacing: Pacing,
        live: bool = False,
        chunk_bytes: int = UPLINK_CHUNK_BYTES,
    ) -> None:
        self._loader = loader
        self._pacer = Pacer(pacing)
        self._live = live
        self._chunk_bytes = chunk_bytes
        self._stopped = asyncio.Event()
        self._pcm = b""

    async def open(self) -> None:
        """Load the audio (in a thread: synthesis runs a process); raises AudioSourceError."""
        self._pcm = await asyncio.to_thread(self._loader)

    def stop(self) -> None:
        self._stopped.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        size = self._chunk_bytes
        for start in range(0, len(self._pcm), size):
            if self._stopped.is_set():
                return
            chunk = self._pcm[start : start + size]
            await self._pacer.advance(len(chunk))
            yield chunk
        if not self._live:
            return
        if self._pacer.pacing == "fast":
            await self._stopped.wait()  # a held button adds nothing more in fast mode
            return
        while not self._stopped.is_set():  # the child is quiet until the button goes up
            await self._pacer.advance(size)
            yield bytes(size)


class SoundDeviceSource:
    """The host's real microphone (`sounddevice`), imported only when used."""

    def __init__(self, *, chunk_bytes: int = UPLINK_CHUNK_BYTES) -> None:
        self._chunk_bytes = chunk_bytes
        self._stopped = asyncio.Event()

    async def open(self) -> None:
        try:
            import sounddevice  # noqa: F401
        except (ImportError, OSError) as exc:
            raise AudioSourceError("bad_argument", f"no sounddevice microphone: {exc}") from exc

    def stop(self) -> None:
        self._stopped.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        import sounddevice

        queue: asyncio.Queue[bytes] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def callback(data: object, frames: int, time_info: object, status: object) -> None:
            del frames, time_info, status
            loop.call_soon_threadsafe(queue.put_nowait, bytes(data))  # type: ignore[call-overload]

        stream = sounddevice.RawInputStream(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="int16",
            blocksize=self._chunk_bytes // 2,
            callback=callback,
        )
        with stream:
            while not self._stopped.is_set():
                getter = asyncio.ensure_future(queue.get())
                stopper = asyncio.ensure_future(self._stopped.wait())
                done, _ = await asyncio.wait({getter, stopper}, return_when="FIRST_COMPLETED")
                stopper.cancel()
                if getter in done:
                    yield getter.result()
                else:
                    getter.cancel()


AudioSource = PcmSource | SoundDeviceSource


class SoundDeviceSink:
    """Plays reply PCM on the host's speaker (`sounddevice`), imported only when used."""

    def __init__(self) -> None:
        self._rate = SAMPLE_RATE
        self._stream = self._open(SAMPLE_RATE)

    @staticmethod
    def _open(rate: int) -> Any:  # sounddevice.RawOutputStream (untyped)
        import sounddevice

        stream = sounddevice.RawOutputStream(samplerate=rate, channels=1, dtype="int16")
        stream.start()
        return stream

    async def play(self, pcm: bytes, rate: int = SAMPLE_RATE) -> None:
        """Play at `rate` Hz (the DAC's: the playback_rate quirk changes it, SPEC Appendix C)."""
        if rate != self._rate:  # what is queued drains at the old rate first
            await asyncio.to_thread(self.close)
            self._stream, self._rate = self._open(rate), rate
        await asyncio.to_thread(self._stream.write, pcm)

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
