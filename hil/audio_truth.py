"""Audio truth: the evidence and reference `expect_audio` judges, and how a miss reads.

Owns finding what a step means and what it is compared with:

- **a reply** (`of: reply`): what the speaker played (`Target.audio_path`: the emulated
  DAC's `out-<id>.wav`, or a sound card at a board's amplifier), against what the server
  sent as it crossed the wire tap (`wire-audio/down-<id>.wav`, hil.tap.wire_audio). The
  words expected are the reply's `text_response` text as the wire carried it. The onset
  latency runs from the end of the child's speech (the utterance's final chunk crossing
  the tap, `wire-audio/up-<id>.json` `last_t`) to the reply's first audible sample.
- **an utterance** (`of: utterance`): what the server's recogniser received
  (`ServerSide.received_audio_dir`: `server-audio/<device>/<n>-<id>.wav` of the embedded
  server, capability `server_audio`), against what `talk`
  told the device to say, synthesised by the harness itself (voice.espeak) or loaded
  from the clip file.

Neither side's reference is the device's own account. Each judgement writes
`audio-truth/<of>-<id>.png` (waveform and spectrogram, hil.audio.artifacts) and `.json`
(every measurement, the transcript, the WER, the violations).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from hil.audio.artifacts import write_artifacts
from hil.audio.limits import AudioLimits, Violation, check
from hil.audio.measure import Measurements, measure
from hil.audio.recording import Recording, from_pcm, load_wav
from hil.audio.transcribe import default_recogniser, word_error_rate
from hil.errors import HilError
from hil.streams import DeviceConsole, Record, WireLog
from hil.targets.audio_path import AudioPath, Window
from voice.clips import CLIP_LIBRARY

Of = Literal["reply", "utterance"]
OFS: Final[tuple[Of, ...]] = ("reply", "utterance")
END_EVENT: Final[dict[str, str]] = {"reply": "audio.rx.end", "utterance": "audio.tx.end"}
WINDOW_MARGIN_S: Final = 1.0  # a sound card listens this much past the reply's length
FOLDER: Final = "audio-truth"


class AudioTruthError(HilError):
    """The evidence or the reference of an `expect_audio` step is missing."""


@dataclass(frozen=True)
class Evidence:
    """What is judged (`heard`), what it is compared with, and the words expected."""

    of: Of
    session: str
    heard: Recording
    reference: Recording | None
    expected_text: str | None
    speech_end_t: float | None = None  # scenario seconds the child stopped speaking


@dataclass
class Verdict:
    """The step's findings: the measured values always, the violations when any."""

    evidence: Evidence
    measurements: Measurements
    transcript: str
    engine: str
    wer: float | None
    latency_s: float | None
    violations: list[Violation] = field(default_factory=list)
    artifacts: list[Path] = field(default_factory=list)

    def values(self) -> dict[str, object]:
        return {
            "of": self.evidence.of,
            "audio_session_id": self.evidence.session,
            **self.measurements.as_dict(),
            "latency_s": self.latency_s,
            "transcript": self.transcript,
            "expected_text": self.evidence.expected_text,
            "wer": self.wer,
            "engine": self.engine,
            "violations": [v.text() for v in self.violations],
            "artifacts": [str(p) for p in self.artifacts],
        }


def latest_session(console: DeviceConsole, of: Of) -> str | None:
    """The audio_session_id of the last reply received (or utterance sent), if any."""
    for record in reversed(console.records):
        if record.name == END_EVENT[of]:
            session = record.data.get("audio_session_id")
            if isinstance(session, str) and session:
                return session
    return None


def _event(console: DeviceConsole, name: str, session: str) -> Record | None:
    for record in reversed(console.records):
        if record.name == name and record.data.get("audio_session_id") == session:
            return record
    return None


def _wire_audio(artifacts: Path, direction: str, session: str) -> tuple[Path, dict[str, object]]:
    wav = artifacts / "wire-audio" / f"{direction}-{session}.wav"
    try:
        meta = json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    return wav, meta if isinstance(meta, dict) else {}


def reply_text(wire: WireLog | None, session: str) -> str | None:
    """The `text_response` text the server sent for `session`, as the tap saw it."""
    if wire is None:
        return None
    for record in reversed(wire.records):
        fields = record.data.get("fields")
        if (
            record.name == "ws"
            and record.data.get("dir") == "down"
            and isinstance(fields, dict)
            and fields.get("type") == "text_response"
            and fields.get("audio_session_id") == session
            and isinstance(fields.get("text"), str)
        ):
            return str(fields["text"])
    return None


async def reply_evidence(
    *,
    session: str,
    path: AudioPath,
    console: DeviceConsole,
    wire: WireLog | None,
    artifacts: Path,
    within: float,
) -> Evidence:
    """What the speaker played for reply `session`, and what the server sent."""
    sent_path, _ = _wire_audio(artifacts, "down", session)
    reference = load_wav(sent_path) if sent_path.is_file() else None
    start = _event(console, "audio.rx.start", session)
    end = _event(console, "audio.rx.end", session)
    clock = console.clock
    began = clock.to_wall(start.t if start else clock.now())
    length = reference.duration_s if reference is not None else 0.0
    finish = clock.to_wall(end.t if end else clock.now()) + length + WINDOW_MARGIN_S
    heard = await path.played(session, window=Window(began - 0.2, finish), within=within)
    _, up = _wire_audio(artifacts, "up", session)
    last_t = up.get("last_t")
    return Evidence(
        "reply",
        session,
        heard,
        reference,
        reply_text(wire, session),
        float(last_t) if isinstance(last_t, int | float) else None,
    )


def received_audio(folder: Path, session: str) -> Path | None:
    """The server's recording of utterance `session` (`<folder>/<device>/<n>-<id>.wav`)."""
    found = sorted(folder.glob(f"*/*-{glob_escape(session)}.wav"))
    return found[-1] if found else None


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def said_reference(phrase: str | None, clip: str | None) -> tuple[Recording, str | None]:
    """The audio `talk` told the device to say, made by the harness, and its words."""
    if phrase is not None:
        return from_pcm(_synthesize(phrase)), phrase
    name = clip or ""
    if name in CLIP_LIBRARY:
        return from_pcm(_synthesize(CLIP_LIBRARY[name])), CLIP_LIBRARY[name]
    if Path(name).is_file():
        return load_wav(Path(name)), None
    raise AudioTruthError(
        f"no reference for clip {name!r}: the harness knows the library clips"
        f" ({', '.join(sorted(CLIP_LIBRARY))}) and WAV files by path"
    )


def _synthesize(text: str) -> bytes:
    from voice.errors import VoiceError
    from voice.espeak import synthesize_clip

    try:
        return synthesize_clip(text)
    except VoiceError as exc:
        raise AudioTruthError(f"cannot synthesise the reference {text!r}: {exc}") from exc


def judge(
    evidence: Evidence,
    limits: AudioLimits,
    *,
    expected_text: str | None,
    from_wall: Callable[[float], float],
    folder: Path,
) -> Verdict:
    """Measure, transcribe and check `evidence` (blocking: run it in a thread)."""
    m = measure(evidence.heard, evidence.reference)
    words = expected_text if expected_text is not None else evidence.expected_text
    heard = default_recogniser().transcribe(evidence.heard, words)
    wer = word_error_rate(words, heard.text) if words else None
    latency = None
    began = evidence.heard.started_at
    if evidence.speech_end_t is not None and began is not None and m.onset_s is not None:
        first_audible = from_wall(began) + m.onset_s  # on the scenario clock, like the wire
        latency = round(first_audible - evidence.speech_end_t, 4)
    violations = check(m, limits, wer=wer, latency_s=latency)
    verdict = Verdict(evidence, m, heard.text, heard.engine, wer, latency, violations)
    verdict.artifacts = write_artifacts(
        folder,
        f"{evidence.of}-{evidence.session}",
        played=evidence.heard,
        reference=evidence.reference,
        measurements=m,
        extra={k: v for k, v in verdict.values().items() if k != "artifacts"},
    )
    return verdict


async def judge_async(
    evidence: Evidence,
    limits: AudioLimits,
    *,
    expected_text: str | None,
    from_wall: Callable[[float], float],
    folder: Path,
) -> Verdict:
    """`judge` in a thread: decoding takes a while and must not stall the event loop."""
    return await asyncio.to_thread(
        judge, evidence, limits, expected_text=expected_text, from_wall=from_wall, folder=folder
    )
