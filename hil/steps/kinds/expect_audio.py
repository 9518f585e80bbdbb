"""`expect_audio`: judge the sound the toy played (a reply) or the server heard (an utterance).

`of: reply` (the default) takes the latest reply whose `audio.rx.end` the device printed,
or the one `session` names, hears it through the target's audio path (capability
`audio_capture`) and compares it with what the server sent on the wire; `of: utterance`
takes the server's recording of the latest utterance (capability `server_audio`) and
compares it with what `talk` told the device to say (hil.audio_truth has the rules).

Every measurement (hil.audio.measure) is checked against `limits:` (the defaults of
hil.audio.limits for a spoken reply, each overridable; `null` switches one off), the
transcript against `transcript:` (a regex) and its word error rate against the expected
words (`text:`, by default the reply's text or the phrase said) and `max_wer`. The values
are kept in the step's result whether it passes or fails, and the images and JSON in
`audio-truth/`.

`violates: [names]` turns the step around: it passes only when each named check fired.
A scenario that injects a defect on purpose (a device quirk, a server fault) proves with
it that the defect is caught, in every run (scenarios/audio/caught_*).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hil import audio_truth as at
from hil import expect as ex
from hil.audio.limits import CHECKED, DEFAULT_LIMITS, SCHEMA, AudioLimits
from hil.audio.recording import load_wav
from hil.errors import StepFailedError
from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import substitute_text
from hil.steps.build import At, InvalidStepError, check_regex
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import AUDIO_CAPTURE, AUDIO_IN, AUDIO_OUT, SERVER_AUDIO, WIRE


@dataclass(frozen=True)
class ExpectAudio(Action):
    of: at.Of = "reply"
    session: str | None = None
    text: str | None = None
    transcript: str | None = None
    limits: AudioLimits = DEFAULT_LIMITS
    capture: Mapping[str, str] = field(default_factory=dict)
    violates: tuple[str, ...] = ()  # measurements that MUST be out of limits (a proven catch)

    def needs(self) -> frozenset[str]:
        if self.of == "reply":
            return frozenset({AUDIO_OUT, AUDIO_CAPTURE, WIRE})
        return frozenset({AUDIO_IN, SERVER_AUDIO})

    def captures(self) -> tuple[str, ...]:
        return tuple(self.capture)


def build(value: Any, at_: At) -> ExpectAudio:
    body = value or {}
    if "transcript" in body:
        check_regex(body["transcript"], at_, "transcript")
    try:
        limits = AudioLimits.from_mapping(body.get("limits") or {}, base=DEFAULT_LIMITS)
    except ValueError as exc:
        raise InvalidStepError(f"expect_audio at {at_.where('limits')}: {exc}") from None
    return ExpectAudio(
        of=body.get("of", "reply"),
        session=body.get("session"),
        text=body.get("text"),
        transcript=body.get("transcript"),
        limits=limits,
        capture=dict(body.get("capture", {})),
        violates=_violates(body.get("violates", []), limits, at_),
    )


def _violates(names: list[str], limits: AudioLimits, at_: At) -> tuple[str, ...]:
    """`violates:` names checked measurements (a limit that is switched off never fires)."""
    for name in names:
        if name not in CHECKED and name != "transcript":
            raise InvalidStepError(
                f"expect_audio at {at_.where('violates')}: {name!r} is not a checked"
                f" measurement; valid: {', '.join((*CHECKED, 'transcript'))}"
            )
        if name in CHECKED and not limits.checks(name):
            raise InvalidStepError(
                f"expect_audio at {at_.where('violates')}: {name!r} has no limit in this"
                " step (its limit is null), so it can never be violated"
            )
    return tuple(names)


async def _evidence(ctx: StepContext, action: ExpectAudio, step: Step, session: str) -> at.Evidence:
    folder = ctx.artifacts
    if folder is None:
        raise at.AudioTruthError("this run keeps no artifact folder, so no audio to judge")
    if action.of == "reply":
        path = ctx.target.audio_path
        if path is None:
            raise at.AudioTruthError(f"target {ctx.target.name!r} has no audio path")
        return await at.reply_evidence(
            session=session,
            path=path,
            console=ctx.console,
            wire=ctx.wire,
            artifacts=folder,
            within=ctx.timeout(step),
        )
    received = ctx.server.received_audio_dir
    recorded = at.received_audio(received, session)
    if recorded is None:
        raise at.AudioTruthError(
            f"the server kept no received audio for utterance {session!r}"
            f" (looked for {received}/*/*-{session}.wav)"
        )
    said = [s for s in ctx.said if s.device == ctx.device]
    if not said:
        raise at.AudioTruthError("no `talk` step told the device what to say before this step")
    reference, words = at.said_reference(said[-1].phrase, said[-1].clip)
    return at.Evidence("utterance", session, load_wav(recorded), reference, words)


def _failure(ctx: StepContext, step: Step, verdict: at.Verdict, problems: list[str]) -> str:
    ev = verdict.evidence
    notes = [f"  {p}" for p in problems]
    notes.append(f"heard ({verdict.engine}): {verdict.transcript!r}")
    if ev.expected_text is not None or verdict.wer is not None:
        notes.append(f"expected words: {ev.expected_text!r}, WER {verdict.wer}")
    notes += [f"evidence: {p}" for p in verdict.artifacts]
    if ev.heard.path is not None:
        notes.append(f"heard audio: {ev.heard.path}")
    if ev.reference is not None and ev.reference.path is not None:
        notes.append(f"reference audio: {ev.reference.path}")
    return ex.report(
        headline=f"{step.label()}: the {ev.of} {ev.session!r} does not sound as expected",
        expected="every measurement within its limit (the values: this step's result)",
        stream=ctx.console,
        start=ctx.console.cursor,
        console=ctx.console,
        notes=notes,
    )


async def run(ctx: StepContext, action: ExpectAudio, step: Step) -> None:

    def fill(text: str) -> str:
        return substitute_text(text, ctx.variables)

    session = fill(action.session) if action.session else at.latest_session(ctx.console, action.of)
    if session is None:
        event = at.END_EVENT[action.of]
        raise StepFailedError(
            f"{step.label()}: no {action.of} to judge yet: the device printed no {event}",
            reason=f"no {event} before {step.label()}",
        )
    evidence = await _evidence(ctx, action, step, session)
    assert ctx.artifacts is not None
    verdict = await at.judge_async(
        evidence,
        action.limits,
        expected_text=fill(action.text) if action.text else None,
        from_wall=ctx.console.clock.from_wall,
        folder=ctx.artifacts / at.FOLDER,
    )
    ctx.measured[step.index] = verdict.values()
    problems = [v.text() for v in verdict.violations]
    pattern = fill(action.transcript) if action.transcript else None
    if pattern is not None and re.fullmatch(pattern, verdict.transcript) is None:
        problems.append(f"transcript {verdict.transcript!r} does not match {pattern!r}")
    if action.violates:
        _check_caught(ctx, step, verdict, action.violates, problems)
    elif problems:
        text = _failure(ctx, step, verdict, problems)
        raise StepFailedError(text, reason=f"{step.label()}: {problems[0]}")
    ex.capture(verdict.values(), action.capture, ctx.variables, label=step.label())


def _check_caught(
    ctx: StepContext, step: Step, verdict: at.Verdict, wanted: tuple[str, ...], problems: list[str]
) -> None:
    """`violates:`: the step proves a defect is caught, so each named check must fire."""
    fired = {v.measurement for v in verdict.violations}
    if any(p.startswith("transcript ") for p in problems):
        fired.add("transcript")
    missed = [name for name in wanted if name not in fired]
    if not missed:
        return
    values = verdict.values()
    seen = ", ".join(f"{name} = {values.get(name)!r}" for name in missed)
    text = _failure(ctx, step, verdict, problems or ["every measurement was within its limit"])
    headline = (
        f"{step.label()}: the defect went unnoticed: {', '.join(missed)} within the limit"
        f" ({seen}); this step expects it out of its limit"
    )
    raise StepFailedError(f"{headline}\n{text}", reason=f"{step.label()}: not caught: {seen}")


KIND = StepKind(
    name="expect_audio",
    schema=f.obj(
        {
            "of": {"enum": list(at.OFS)},
            "session": f.STR,
            "text": f.STR,
            "transcript": f.STR,
            "limits": SCHEMA,
            "capture": f.CAPTURE,
            "violates": {"type": "array", "items": {"enum": [*CHECKED, "transcript"]}},
            "timeout": f.DURATION,
        },
        null=True,
    ),
    model=ExpectAudio,
    build=build,
    run=run,
    doc=Doc(
        form="`{of, session, text, transcript, limits, violates, capture}` (all optional)",
        does="the sound of the latest reply played (`of: reply`) or utterance the server"
        " heard (`of: utterance`): transcript, WER and measurements within `limits`;"
        " `violates`: these must be out of limits (a defect proven caught)",
    ),
)
