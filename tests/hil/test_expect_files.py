"""`expect_files` (hil.files_expect): what the load refuses and what a folder survey sees."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from hil.errors import ExpectTimeoutError, ScenarioLoadError, StepFailedError
from hil.files_expect import FileCheck, expect_files, survey
from hil.scenario.loader import load_scenario
from hil.streams import DeviceConsole
from tests.hil.conftest import WriteFile

pytestmark = pytest.mark.unit

HEAD = "version: 1\nname: t\ndescription: d\nsteps:\n"


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ("expect_files: {glob: '*.wav'}", "in"),
        ("expect_files: {in: cloud, glob: '*.wav'}", "cloud"),
        ("expect_files: {in: server, glob: '../x'}", "must be a relative glob inside the folder"),
        ("expect_files: {in: server, glob: /etc/passwd}", "no leading /"),
        ("expect_files: {in: server, glob: a, count: 1, min_count: 2}", "count or min_count"),
        ("expect_files: {in: server, glob: a, count: 0, contains: x}", "can never be checked"),
        ("expect_files: {in: device, glob: a, contains: '('}", "bad regular expression '('"),
        ("expect_files: {in: device, glob: a, count: -1}", "-1"),
    ],
)
def test_bad_file_steps_are_refused_at_load(write: WriteFile, step: str, problem: str) -> None:
    path = write("x.yaml", f"{HEAD}  - {step}\n")
    with pytest.raises(ScenarioLoadError, match=re.escape(problem)):
        load_scenario(path)


def test_a_file_step_needs_the_folder_capability(write: WriteFile) -> None:
    path = write(
        "x.yaml",
        f"{HEAD}  - expect_files: {{in: server, glob: a}}\n"
        "  - expect_files: {in: device, glob: b}\n",
    )
    assert {"server_files", "device_files"} <= set(load_scenario(path).needs())


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "u" / "dev").mkdir(parents=True)
    (tmp_path / "u" / "dev" / "1.wav").write_bytes(b"RIFF" + bytes(60))
    (tmp_path / "u" / "dev" / "2.wav").write_bytes(b"junk")
    (tmp_path / "nvs.json").write_text('{"auth": {"refresh_token": "abc.def"}}')
    return tmp_path


def test_survey_counts_and_names_each_files_problem(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    check = FileCheck(glob="u/**/*.wav", count=2, starts_with=b"RIFF", min_bytes=10)
    seen = survey(root, check)
    assert [p.name for p in seen.files] == ["1.wav", "2.wav"]
    assert seen.count_ok(check) and not seen.holds(check)
    assert seen.problems == {
        root / "u/dev/2.wav": ["4 bytes < 10", "starts with b'junk', not b'RIFF'"]
    }
    text = "\n".join(seen.lines(check))
    assert "2 file(s) matched 'u/**/*.wav'" in text and "u/dev/2.wav (4 B)" in text


def test_survey_of_content(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    assert survey(root, FileCheck(glob="nvs.json", contains=r'"refresh_token":\s*"abc')).holds(
        FileCheck(glob="nvs.json")
    )
    lacking = FileCheck(glob="nvs.json", lacks=r"abc\.def")
    assert survey(root, lacking).problems[root / "nvs.json"][0].startswith("holds /abc\\.def/")
    assert not survey(root, FileCheck(glob="*.wav")).holds(FileCheck(glob="*.wav"))  # none
    assert survey(root, FileCheck(glob="*.wav", count=0)).holds(FileCheck(glob="*.wav", count=0))


def _console(tmp_path: Path) -> DeviceConsole:
    return DeviceConsole(log_path=tmp_path / "console.log", events_path=tmp_path / "events.jsonl")


async def test_waits_for_a_file_written_later(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    later = asyncio.get_running_loop().call_later(0.2, (root / "late.txt").write_text, "x")
    seen = await expect_files(
        root, FileCheck(glob="late.txt"), within=5, hold=0, label="s", console=_console(tmp_path)
    )
    later.cancel()
    assert [p.name for p in seen.files] == ["late.txt"]


async def test_hold_fails_on_a_file_written_after_the_check_first_held(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    asyncio.get_running_loop().call_later(0.2, (root / "late.wav").write_bytes, b"RIFF")
    with pytest.raises(ExpectTimeoutError) as failed:
        await expect_files(
            root,
            FileCheck(glob="*.wav", count=0),
            within=1,
            hold=3,
            label="step 3",
            console=_console(tmp_path),
        )
    text = str(failed.value)
    assert "step 3: held, then stopped holding within 3s" in text
    assert "expected: exactly 0 file(s) matching '*.wav'" in text and "late.wav (4 B)" in text
    assert failed.value.reason == "1 file(s) for '*.wav' (step 3)"


async def test_a_missing_folder_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(StepFailedError, match="is not a folder"):
        await expect_files(
            tmp_path / "nope",
            FileCheck(glob="*"),
            within=1,
            hold=0,
            label="s",
            console=_console(tmp_path),
        )
