"""`expect_files`: files in the server's data folder or the device's flash (evidence on disk).

`in: server` reads the server side's data folder (`server_files`), `in: device` the
target's flash as files (`device_files`). `glob` is relative to that folder (`**` for any
depth). Without `count` at least one file (or `min_count`) must match; `count: 0` says
none may exist. `contains`/`lacks` are regexes over each file's text and may use
`${variables}` (their values match literally): a token captured from the wire must be
the one in flash. `hold` keeps checking for that long after the condition first holds,
so a file written late still fails the step (hil.files_expect).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any, Final

from hil import files_expect as fx
from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import parse_duration, substitute_text
from hil.steps.build import At, InvalidStepError, check_regex
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import DEVICE_FILES, SERVER_FILES

SERVER: Final = "server"
DEVICE: Final = "device"
PLACES: Final = {SERVER: SERVER_FILES, DEVICE: DEVICE_FILES}


@dataclass(frozen=True)
class ExpectFiles(Action):
    place: str
    check: fx.FileCheck
    hold: float = 0.0

    def needs(self) -> frozenset[str]:
        return frozenset({PLACES[self.place]})

    def budget_s(self) -> float:
        return self.hold


def _glob(value: str, at: At) -> str:
    parts = PurePosixPath(value).parts
    if not value or value.startswith("/") or ".." in parts:
        raise InvalidStepError(
            f"expect_files at {at.where('glob')}: {value!r} must be a relative glob inside"
            " the folder (no leading /, no ..), e.g. utterances/**/*.wav"
        )
    return value


def build(value: Any, at: At) -> ExpectFiles:
    for key in ("contains", "lacks"):
        if isinstance(value.get(key), str):
            check_regex(value[key], at, key)
    count, min_count = value.get("count"), value.get("min_count")
    if count is not None and min_count is not None:
        raise InvalidStepError(f"expect_files at {at.where()}: give count or min_count, not both")
    content = {"min_bytes", "max_bytes", "starts_with", "contains", "lacks"} & set(value)
    if count == 0 and content:
        raise InvalidStepError(
            f"expect_files at {at.where()}: count 0 matches no file, so"
            f" {', '.join(sorted(content))} can never be checked; drop them"
        )
    starts = value.get("starts_with")
    check = fx.FileCheck(
        glob=_glob(value["glob"], at),
        count=count,
        min_count=1 if min_count is None else min_count,
        min_bytes=value.get("min_bytes"),
        max_bytes=value.get("max_bytes"),
        starts_with=starts.encode() if isinstance(starts, str) else None,
        contains=value.get("contains"),
        lacks=value.get("lacks"),
    )
    hold = parse_duration(value["hold"]) if "hold" in value else 0.0
    return ExpectFiles(value["in"], check, hold)


def _resolved(check: fx.FileCheck, ctx: StepContext) -> fx.FileCheck:
    def text(pattern: str | None) -> str | None:
        return None if pattern is None else substitute_text(pattern, ctx.variables, regex=True)

    return replace(check, contains=text(check.contains), lacks=text(check.lacks))


async def run(ctx: StepContext, action: ExpectFiles, step: Step) -> None:
    on_server = action.place == SERVER
    root = ctx.server.data_dir if on_server else ctx.target.flash_root
    await fx.expect_files(
        root,
        _resolved(action.check, ctx),
        refresh=ctx.server.sync_files if on_server else None,
        within=ctx.timeout(step),
        hold=action.hold,
        label=step.label(),
        console=ctx.console,
    )


KIND = StepKind(
    name="expect_files",
    schema=f.obj(
        {
            "in": {"enum": list(PLACES)},
            "glob": f.STR,
            "count": f.NONNEG,
            "min_count": f.NONNEG,
            "min_bytes": f.NONNEG,
            "max_bytes": f.NONNEG,
            "starts_with": f.STR,
            "contains": f.STR,
            "lacks": f.STR,
            "hold": f.DURATION,
            "timeout": f.DURATION,
        },
        required=("in", "glob"),
    ),
    model=ExpectFiles,
    build=build,
    run=run,
    doc=Doc(
        form="`{in: server \\| device, glob, count \\| min_count, min_bytes, max_bytes,"
        " starts_with, contains, lacks, hold, timeout}`",
        does="files under the server's data folder or the device's flash: how many match"
        " the glob, their size, first bytes and text; waits until true, then `hold`s; needs"
        " `server_files` or `device_files`",
    ),
)
