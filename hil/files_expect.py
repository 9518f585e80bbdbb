"""Evidence on disk: files below a folder the device under test cannot fake.

`expect_files` looks at the server's data folder (capability `server_files`) or the
device's flash as files (`device_files`): the files a glob selects, how many, their sizes,
how they start, what their text contains or lacks. Files are written by other processes
and threads with no event to wait for, so the folder is surveyed again every `POLL_S`
until the condition holds (or the timeout passes); `hold` then asks that it keeps holding,
for checks such as "no audio at rest" where a late write is the defect. A miss reports
what was expected, what the folder held and why each file failed, like `expect` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil import expect as ex
from hil.errors import ExpectTimeoutError, StepFailedError, display_path
from hil.streams import DeviceConsole

POLL_S: Final = 0.05
LISTED: Final = 8  # files named in a failure report
EXCERPT: Final = 120  # characters of a file's text shown when its content is wrong


@dataclass(frozen=True)
class FileCheck:
    """What a set of files must look like; unset fields are not checked.

    Without `count`, at least `min_count` files must match (default 1).
    `contains`/`lacks` are regexes over each file's text (UTF-8, bad bytes replaced).
    """

    glob: str
    count: int | None = None
    min_count: int = 1
    min_bytes: int | None = None
    max_bytes: int | None = None
    starts_with: bytes | None = None
    contains: str | None = None
    lacks: str | None = None

    def describe(self) -> str:
        many = f"exactly {self.count}" if self.count is not None else f"at least {self.min_count}"
        parts = [f"{many} file(s) matching {self.glob!r}"]
        if self.min_bytes is not None:
            parts.append(f"each of at least {self.min_bytes} bytes")
        if self.max_bytes is not None:
            parts.append(f"each of at most {self.max_bytes} bytes")
        if self.starts_with is not None:
            parts.append(f"starting with {self.starts_with!r}")
        if self.contains is not None:
            parts.append(f"containing /{self.contains}/")
        if self.lacks is not None:
            parts.append(f"not containing /{self.lacks}/")
        return ", ".join(parts)


@dataclass(frozen=True)
class Survey:
    """One look at the folder: the files the glob selected and why each one failed."""

    root: Path
    files: tuple[Path, ...]
    sizes: dict[Path, int]
    problems: dict[Path, list[str]]

    def count_ok(self, check: FileCheck) -> bool:
        if check.count is not None:
            return len(self.files) == check.count
        return len(self.files) >= check.min_count

    def holds(self, check: FileCheck) -> bool:
        return self.count_ok(check) and not self.problems

    def lines(self, check: FileCheck) -> list[str]:
        lines = [f"{len(self.files)} file(s) matched {check.glob!r} in {display_path(self.root)}"]
        for path in self.files[:LISTED]:
            lines.append(f"  {path.relative_to(self.root)} ({self.sizes.get(path, 0)} B)")
            lines += [f"    {why}" for why in self.problems.get(path, [])]
        if len(self.files) > LISTED:
            lines.append(f"  ... and {len(self.files) - LISTED} more")
        return lines


def _problems(path: Path, check: FileCheck) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:  # removed between the glob and the read: seen next time
        return [f"cannot read: {exc.strerror}"]
    why = []
    if check.min_bytes is not None and len(data) < check.min_bytes:
        why.append(f"{len(data)} bytes < {check.min_bytes}")
    if check.max_bytes is not None and len(data) > check.max_bytes:
        why.append(f"{len(data)} bytes > {check.max_bytes}")
    if check.starts_with is not None and not data.startswith(check.starts_with):
        why.append(f"starts with {data[: len(check.starts_with)]!r}, not {check.starts_with!r}")
    text = data.decode("utf-8", "replace")
    if check.contains is not None and not re.search(check.contains, text):
        why.append(f"no match for /{check.contains}/ in {text[:EXCERPT]!r}")
    if check.lacks is not None and (found := re.search(check.lacks, text)):
        why.append(
            f"holds /{check.lacks}/: {text[max(0, found.start() - 20) : found.end() + 20]!r}"
        )
    return why


def survey(root: Path, check: FileCheck) -> Survey:
    """Look once: which regular files below `root` match, and what is wrong with each."""
    files = tuple(sorted(p for p in root.glob(check.glob) if p.is_file()))
    sizes = {}
    for path in files:
        with contextlib.suppress(OSError):  # removed since the glob: seen on the next look
            sizes[path] = path.stat().st_size
    problems: dict[Path, list[str]] = {}
    if check.count != 0:
        for path in files:
            if why := _problems(path, check):
                problems[path] = why
    return Survey(root, files, sizes, problems)


async def expect_files(
    root: Path,
    check: FileCheck,
    *,
    within: float,
    hold: float,
    label: str,
    console: DeviceConsole,
    refresh: Callable[[], Awaitable[None]] | None = None,
) -> Survey:
    """Wait until the files under `root` pass `check`, then keep checking for `hold` s.

    `refresh` brings `root` up to date before each look (a copy of a remote server's files).
    """

    async def look() -> Survey:
        if refresh is not None:
            await refresh()
        return await asyncio.to_thread(survey, root, check)

    if refresh is not None:
        await refresh()
    if not await asyncio.to_thread(root.is_dir):
        raise StepFailedError(
            f"{label}: {display_path(root)} is not a folder (nothing was written there)",
            reason=f"no folder {root.name} ({label})",
        )
    deadline = time.monotonic() + within
    seen = await look()
    while not seen.holds(check):
        if time.monotonic() >= deadline:
            raise _miss(f"{label}: timed out after {within:g}s", check, seen, console, label)
        await asyncio.sleep(POLL_S)  # poll: a file system has no event to wait for here
        seen = await look()
    until = time.monotonic() + hold
    while time.monotonic() < until:
        await asyncio.sleep(POLL_S)
        seen = await look()
        if not seen.holds(check):
            head = f"{label}: held, then stopped holding within {hold:g}s"
            raise _miss(head, check, seen, console, label)
    return seen


def _miss(
    headline: str, check: FileCheck, seen: Survey, console: DeviceConsole, label: str
) -> ExpectTimeoutError:
    text = ex.report(
        headline=headline,
        expected=check.describe(),
        stream=console,
        start=len(console.records),
        console=console,
        notes=seen.lines(check),
    )
    found = f"{len(seen.files)} file(s)" if not seen.count_ok(check) else "a file that differs"
    return ExpectTimeoutError(text, reason=f"{found} for {check.glob!r} ({label})")
