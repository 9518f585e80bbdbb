"""From schema-valid YAML data to the typed model (`hil.scenario.model`).

The schema has already checked shapes; this module checks what it cannot express
(exactly one of two keys, regexes that compile, console lines the SPEC §9 parser
accepts) and converts values (durations to seconds, chip names to ids). Problems carry
the file and line of the offending key, like schema problems.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hil.errors import HilError, Problem
from hil.scenario import model as m
from hil.scenario.include import RawStep
from hil.scenario.schema import STEP_COMMON_KEYS, STEP_KINDS
from hil.scenario.values import parse_duration, placeholder_text
from hil.scenario.yamldoc import DataPath, YamlDoc
from protocol.console import Command, format_command, parse_command
from protocol.constants import CHIP_IDS
from protocol.errors import CommandError


class InvalidStepError(HilError):
    """Raised inside a builder; turned into a Problem at the step's key."""

    def __init__(self, message: str, *, sub: DataPath = ()) -> None:
        super().__init__(message)
        self.sub = sub


@dataclass(frozen=True)
class At:
    """Where the value being built lives (for messages)."""

    doc: YamlDoc
    path: DataPath

    def where(self, *sub: object) -> str:
        return self.doc.where((*self.path, *sub))


Builder = Callable[[Any, At], m.Action]


def check_regex(pattern: str, at: At, *sub: object) -> None:
    try:
        re.compile(placeholder_text(pattern))
    except re.error as exc:
        raise InvalidStepError(
            f"bad regular expression {pattern!r} at {at.where(*sub)}: {exc}", sub=sub
        ) from None


def _match(value: object, at: At, *sub: object) -> dict[str, object]:
    match = dict(value) if isinstance(value, dict) else {}
    for key, expected in match.items():
        if isinstance(expected, str):
            check_regex(expected, at, *sub, key)
    return match


def _pattern(source: str, event: str, body: dict[str, Any], at: At) -> m.EventPattern:
    return m.EventPattern(source, event, _match(body.get("match"), at, "match"))


def _console(value: Any, at: At) -> m.Action:
    body = {"line": value} if isinstance(value, str) else value
    action = m.Console(line=body["line"], reply=body.get("reply", "ok"))
    if action.reply == "ok":
        try:
            parse_command(placeholder_text(action.line))
        except CommandError as exc:
            raise InvalidStepError(
                f"console line {action.line!r} at {at.where()} would be refused "
                f"({exc.reason}: {exc}); to test a refusal write reply: error"
            ) from None
    return action


def _talk(value: Any, at: At) -> m.Action:
    body = {"phrase": value} if isinstance(value, str) else value
    given = [k for k in ("phrase", "clip") if k in body]
    if len(given) != 1:
        raise InvalidStepError(f"talk at {at.where()} needs exactly one of phrase, clip")
    action = m.Talk(phrase=body.get("phrase"), clip=body.get("clip"))
    if action.phrase is not None:
        command = Command("talk", phrase=placeholder_text(action.phrase))
    else:
        command = Command("talk", (placeholder_text(action.clip or ""),))
    try:
        parse_command(format_command(command))
    except CommandError as exc:
        raise InvalidStepError(f"talk at {at.where()} would be refused: {exc}") from None
    return action


def _expect(source: str) -> Builder:
    def build(value: Any, at: At) -> m.Action:
        body: dict[str, Any] = {"event": value} if isinstance(value, str) else value
        return m.Expect(_pattern(source, body["event"], body, at), dict(body.get("capture", {})))

    return build


def _expect_line(value: Any, at: At) -> m.Action:
    pattern = value if isinstance(value, str) else value["pattern"]
    check_regex(pattern, at)
    return m.ExpectLine(pattern)


def _expect_reply(value: Any, at: At) -> m.Action:
    body = value or {}
    for key in ("text", "transcript"):
        if key in body:
            check_regex(body[key], at, key)
    return m.ExpectReply(body.get("text"), body.get("transcript"), dict(body.get("capture", {})))


def _one_source(body: dict[str, Any], at: At, *, step: str) -> tuple[str, str] | None:
    given = [k for k in ("event", "server_event") if k in body]
    if len(given) > 1:
        raise InvalidStepError(f"{step} at {at.where()}: give event or server_event, not both")
    if not given:
        return None
    return ("device" if given[0] == "event" else "server"), body[given[0]]


def _expect_absent(value: Any, at: At) -> m.Action:
    source = _one_source(value, at, step="expect_absent")
    if source is None:
        raise InvalidStepError(f"expect_absent at {at.where()} needs event or server_event")
    pattern = _pattern(source[0], source[1], value, at)
    return m.ExpectAbsent(pattern, parse_duration(value["within"]))


def _wait(value: Any, at: At) -> m.Action:
    source = _one_source(value, at, step="wait")
    if source is not None and "seconds" in value:
        raise InvalidStepError(f"wait at {at.where()}: give seconds or an event, not both")
    if source is None:
        if "seconds" not in value:
            raise InvalidStepError(f"wait at {at.where()} needs seconds, event or server_event")
        if set(value) & {"match", "capture", "timeout"}:
            raise InvalidStepError(f"wait at {at.where()}: match/capture/timeout need an event")
        return m.Wait(seconds=parse_duration(value["seconds"]))
    pattern = _pattern(source[0], source[1], value, at)
    return m.Wait(pattern=pattern, capture=dict(value.get("capture", {})))


def release_spec(value: dict[str, Any], at: At) -> m.ReleaseSpec:
    damage: dict[str, Any] = value.get("break") or {}
    chip_id = damage.get("chip_id")
    if isinstance(chip_id, str):
        if chip_id not in CHIP_IDS:
            raise InvalidStepError(
                f"break.chip_id {chip_id!r} at {at.where('break', 'chip_id')}: "
                f"use a chip id number or one of {', '.join(CHIP_IDS)}",
                sub=("break", "chip_id"),
            )
        chip_id = CHIP_IDS[chip_id]
    return m.ReleaseSpec(
        version=value["version"],
        chip=value.get("chip", "esp32"),
        secure_version=value.get("secure_version", 0),
        mandatory=value.get("mandatory", False),
        notes=value.get("notes", ""),
        behaviour=value.get("behaviour"),
        payload_bytes=value.get("payload_bytes", 0),
        breaks=m.BreakSpec(
            sha256_mismatch=damage.get("sha256_mismatch", False),
            truncate=damage.get("truncate"),
            random_bytes=damage.get("random_bytes"),
            chip_id=chip_id,
            flip_byte=damage.get("flip_byte"),
            manifest_version=damage.get("manifest_version"),
            manifest_secure_version=damage.get("manifest_secure_version"),
            manifest_size=damage.get("manifest_size"),
        ),
    )


def _server_fault(value: Any, at: At) -> m.Action:
    kind = value["kind"]
    needed = {"http_status": {"path", "status"}, "cut_download": {"after_bytes"}}.get(kind, set())
    extra = set(value) - {"kind", "count"} - needed
    missing = needed - set(value)
    if missing or extra:
        wants = ", ".join(sorted(needed)) or "only count"
        raise InvalidStepError(f"server_fault {kind} at {at.where()} takes {wants}")
    return m.ServerFault(
        fault=kind,
        count=value.get("count", 1),
        path=value.get("path"),
        status=value.get("status"),
        after_bytes=value.get("after_bytes"),
    )


BUILDERS: dict[str, Builder] = {
    "console": _console,
    "talk": _talk,
    "button": lambda value, at: m.Button(value),
    "expect": _expect("device"),
    "expect_line": _expect_line,
    "expect_server": _expect("server"),
    "expect_reply": _expect_reply,
    "expect_absent": _expect_absent,
    "publish": lambda value, at: m.Publish(release_spec(value, at)),
    "set_config": lambda value, at: m.SetConfig(dict(value)),
    "power_cut": lambda value, at: m.PowerCut(),
    "reboot": lambda value, at: m.Reboot((value or {}).get("reason")),
    "server_fault": _server_fault,
    "wait": _wait,
}
assert set(BUILDERS) | {"include"} == set(STEP_KINDS)


def build_step(raw: RawStep, index: int) -> m.Step | Problem:
    """The typed step for `raw`, or the Problem that prevents it."""
    kinds = [k for k in raw.value if k not in STEP_COMMON_KEYS]
    at = At(raw.doc, raw.path)
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        message = (
            f"a step needs exactly one action at {raw.loc} (found: {found}); valid steps: "
            + ", ".join(STEP_KINDS)
            + " (start each step with '- ')"
        )
        return Problem(raw.doc.path, raw.loc.line, message)
    kind = kinds[0]
    value = raw.value[kind]
    try:
        action = BUILDERS[kind](value, At(raw.doc, (*raw.path, kind)))
        timeout = _timeout(raw.value, value, at)
    except InvalidStepError as exc:
        return Problem(raw.doc.path, raw.doc.line_of((*raw.path, kind, *exc.sub)), str(exc))
    return m.Step(
        index=index,
        action=action,
        loc=raw.loc,
        timeout=timeout,
        requires=frozenset(_strings(raw.value.get("requires"))),
        name=str(raw.value["name"]) if "name" in raw.value else None,
        clock=str(raw.value["clock"]) if "clock" in raw.value else None,
    )


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _timeout(step: dict[str, object], body: object, at: At) -> float | None:
    inner = body.get("timeout") if isinstance(body, dict) else None
    outer = step.get("timeout")
    if inner is not None and outer is not None:
        raise InvalidStepError(f"timeout given twice at {at.where()}; keep one")
    chosen = inner if inner is not None else outer
    return None if chosen is None else parse_duration(chosen)
