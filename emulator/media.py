"""The board's microphone and speaker drivers: capture tasks and the playback queue.

Owns carrying out `StartCapture`/`StopCapture` (open a source from `emulator.audio`,
report `CaptureStarted` or `CaptureFailed{reason}`, then the chunks at the source's pace)
and `Play`/`PlayEnd`/`SetVolume` (play reply frames on the speaker clock at the DAC's
rate, write `rx-<id>.wav`, report `PlaybackDone`). Sinks: a WAV file per reply of what the
server sent (`rx-<id>.wav`, unscaled: each `play`'s `received`, else its `pcm`), the
speaker output (`out-<id>.wav` + `out-<id>.json`, emulator.speaker_output: what the DAC
played, at the device's volume and the `play`'s `sample_rate`), an optional in-memory
sink, and the real speaker through sounddevice, played as the board's DAC would. Both
emulated boards write the same files (teddy-fw-host: linux_audio.c).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from emulator.audio import (
    AudioSource,
    Pacer,
    Pacing,
    PcmSource,
    SoundDeviceSink,
    SoundDeviceSource,
    resolve_clip,
    scale_volume,
    silence,
    synthesize,
)
from emulator.core.effects import Play, PlayEnd, StartCapture
from emulator.core.inputs import (
    CaptureChunk,
    CaptureEnded,
    CaptureFailed,
    CaptureStarted,
    Input,
    PlaybackDone,
)
from emulator.errors import AudioSourceError
from emulator.speaker_output import SpeakerOutput
from voice.wav import write_wav

Post = Callable[[Input], None]


def microphone_source(spec: str, *, audio_dir: Path, pacing: Pacing) -> AudioSource:
    """The `button press` source: `phrase:<text>`, `clip:<name>`, `silence` or `sounddevice`."""
    if spec == "sounddevice":
        return SoundDeviceSource()
    if spec == "silence":
        return PcmSource(lambda: silence(0), pacing=pacing, live=True)
    kind, _, value = spec.partition(":")
    if kind == "phrase" and value.strip():
        return PcmSource(lambda: synthesize(value), pacing=pacing, live=True)
    if kind == "clip" and value:
        return PcmSource(resolve_clip(value, audio_dir), pacing=pacing, live=True)
    raise AudioSourceError("bad_argument", f"bad microphone setting {spec!r}")


class CaptureRunner:
    """One capture at a time (the device has one microphone)."""

    def __init__(self, *, post: Post, pacing: Pacing, audio_dir: Path, microphone: str) -> None:
        self._post = post
        self._pacing: Pacing = pacing
        self._audio_dir = audio_dir
        self._microphone = microphone
        self._sources: dict[int, AudioSource] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, effect: StartCapture) -> None:
        task = asyncio.create_task(self._run(effect))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self, capture_id: int) -> None:
        source = self._sources.get(capture_id)
        if source is not None:
            source.stop()

    def _source(self, effect: StartCapture) -> AudioSource:
        if effect.source == "live":
            return microphone_source(
                self._microphone, audio_dir=self._audio_dir, pacing=self._pacing
            )
        if effect.source == "phrase":
            text = effect.value
            return PcmSource(lambda: synthesize(text), pacing=self._pacing)
        return PcmSource(resolve_clip(effect.value, self._audio_dir), pacing=self._pacing)

    async def _run(self, effect: StartCapture) -> None:
        capture_id = effect.capture_id
        try:
            source = self._source(effect)
            await source.open()
        except AudioSourceError as exc:
            self._post(CaptureFailed(capture_id, exc.reason, exc.message))
            return
        self._sources[capture_id] = source
        try:
            self._post(CaptureStarted(capture_id))
            async for chunk in source.chunks():
                self._post(CaptureChunk(capture_id, chunk))
            self._post(CaptureEnded(capture_id))
        finally:
            self._sources.pop(capture_id, None)

    def abort_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()


class MemorySink:
    """Keeps every finished reply's PCM by audio_session_id (for in-process callers)."""

    def __init__(self) -> None:
        self.replies: dict[str, bytes] = {}


class Speaker:
    """Plays replies in order on its own clock; finished replies become WAV files."""

    def __init__(
        self,
        *,
        post: Post,
        pacing: Pacing,
        audio_dir: Path,
        memory: MemorySink | None = None,
        device: str = "wav",
    ) -> None:
        self._post = post
        self._pacing: Pacing = pacing
        self._audio_dir = audio_dir
        self._memory = memory
        self._queue: asyncio.Queue[Play | PlayEnd] = asyncio.Queue()
        self._buffers: dict[str, bytearray] = {}
        self._pacers: dict[str, Pacer] = {}
        self._outputs: dict[str, SpeakerOutput] = {}
        self._out = SoundDeviceSink() if device == "sounddevice" else None
        self.volume = 100
        self._task = asyncio.create_task(self._run())

    def enqueue(self, effect: Play | PlayEnd) -> None:
        self._queue.put_nowait(effect)

    def set_volume(self, volume: int) -> None:
        """SPEC §9.2 `set volume` (and the stored volume at boot): 0..100."""
        self.volume = max(0, min(100, volume))

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            session = item.audio_session_id
            if isinstance(item, Play):
                await self._play(item)
                continue
            pcm = bytes(self._buffers.pop(session, b""))
            self._pacers.pop(session, None)
            output = self._outputs.pop(session, None)
            if output is not None:
                output.write_sidecar(done=True)  # the final byte count
            write_wav(self._audio_dir / f"rx-{session}.wav", pcm)
            if self._memory is not None:
                self._memory.replies[session] = pcm
            self._post(PlaybackDone(session))

    async def _play(self, item: Play) -> None:
        session = item.audio_session_id
        # rx-<id>.wav is what the server sent: `received` when a playback quirk (SPEC
        # Appendix C) made the DAC play something else.
        self._buffers.setdefault(session, bytearray()).extend(item.received or item.pcm)
        played = scale_volume(item.pcm, self.volume)
        output = self._outputs.get(session)
        if output is None:
            output = SpeakerOutput(
                self._audio_dir, session, rate=item.sample_rate, volume=self.volume
            )
            self._outputs[session] = output
        output.append(played, rate=item.sample_rate, volume=self.volume)
        pacer = self._pacers.setdefault(session, Pacer(self._pacing))
        if self._out is not None:
            await self._out.play(played, item.sample_rate)
        else:
            await pacer.advance(len(item.pcm), rate=item.sample_rate)

    def abort(self) -> None:
        self._task.cancel()
        if self._out is not None:
            with contextlib.suppress(Exception):
                self._out.close()
