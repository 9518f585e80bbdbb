"""CI proof of the serial path (issue 5): one flashed virtual board runs the whole scenario
suite (claim, streaming, OTA, age, and config, token, faults) with `--target serial`, one
scenario after the other, exactly as `teddy-hil run scenarios --target serial --port URL`.

The board (`teddy-hil virtual-board`, a separate process on a free loopback port) is
flashed once per test worker with `teddy-hil flash` (esptool's API, the lab flow), then
every scenario talks to it only through the pyserial URL; no capability is declared: the
board's `board: wiring:` boot line says what is wired. The scenarios share the board
the way they share a DevKit on a bench: the serial target's factory restore (erase
otadata) must undo each OTA scenario before the next one. With `pytest -n 2` each worker
gets its own board, which is the lab guide's two-boards-in-parallel set-up.

The board runs with `--timing fast` (5 s self-test limit instead of 60 s) to keep CI
short; README "Benchmarks" gives the same suite's numbers with realistic timing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hil.result import Status
from hil.runner.run import run_scenario
from hil.runner.server_setup import shared_pipeline
from hil.scenario.loader import load_scenario
from hil.serial.audio_wiring import parse_audio_option
from hil.serial.options import SerialOptions
from hil.targets.base import ChosenTarget
from hil.targets.serial_target import SerialTarget
from protocol.image import build_app_image
from tests.hil_tap.helpers import wire_problems

pytestmark = pytest.mark.emu

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    str(p.relative_to(REPO / "scenarios"))
    for p in (REPO / "scenarios").glob("*/*.yaml")
    if p.parent.name != "common"
)
# Skipped on a board, each for a reason the report states:
SKIPPED = {
    "claim/provisioned_production.yaml": "needs capability 'identity'",  # MAC + mfg NVS
    "claim/wrong_hmac.yaml": "needs capability 'identity'",
    "claim/disabled_device.yaml": "needs capability 'identity'",
    "security/claim_refusals.yaml": "needs capability 'identity'",
    # A board's flash is read with esptool, which stops the app: not while a scenario runs.
    "token/tokens_in_flash.yaml": "needs capability 'device_files'",
    "ota/older_version_skipped.yaml": "runs firmware 1.0.0, the scenario needs 1.3.0",
    "ota/secure_version_lower.yaml": "has secure_version 0, the scenario needs 2",
    # A serial run drives one board; `devices:` scenarios need one per device.
    **{name: "needs capability 'multi_device'" for name in SCENARIOS if name.startswith("multi/")},
    # Device quirks (SPEC Appendix C) live in RAM and provisioning ends with a reset, so
    # `device: quirks:` cannot be on from the first boot (console `quirk on` steps can).
    **{
        f"security/device_{name}.yaml": "needs capability 'quirks'"
        for name in (
            "reuse_nonce",
            "omit_authorization",
            "no_percent_encoding",
            "send_handshake",
            "audio_before_start",
            "audio_end_before_final",
            "oversize_frame",
            "ignore_etag",
        )
    },
    "security/device_retry_same_nonce.yaml": "needs capability 'identity'",
    # The claim limits count claims per device id: the scenario sets the ids it claims as.
    "security/claim_lockout.yaml": "needs capability 'identity'",
    "security/claim_per_ip_limit.yaml": "needs capability 'identity'",
    **{
        f"audio/caught_{name}.yaml": "needs capability 'quirks'"
        for name in ("playback_22050", "dropped_frames", "clipping", "silence")
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _teddy_hil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hil.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


@dataclass(frozen=True)
class FlashedBoard:
    url: str
    audio: Path  # where its emulated DAC writes out-<id>.wav (its declared audio path)


@pytest.fixture(scope="module")
def flashed_board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlashedBoard]:
    """A virtual board process, flashed with teddy-hil flash (and the skip checked)."""
    work = tmp_path_factory.mktemp("tier-board")
    url = f"socket://127.0.0.1:{_free_port()}"
    board = subprocess.Popen(
        [sys.executable, "-m", "hil.cli", "virtual-board", "--listen", url, "--dir",
         str(work / "board"), "--server", "http://127.0.0.1:9", "--timing", "fast"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert board.stdout is not None
        assert "listening" in board.stdout.readline()
        app = work / "teddy.bin"
        app.write_bytes(build_app_image(version="1.0.0", payload=bytes(50_000)))
        log = ("--log", str(work / "flash.log"))
        first = _teddy_hil("flash", str(app), "--port", url, *log)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "partition-table 0x008000" in first.stdout and "written" in first.stdout
        again = _teddy_hil("flash", str(app), "--port", url, *log)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "nothing written: board already up to date" in again.stdout
        assert "board already holds it: flash MD5" in again.stdout
        yield FlashedBoard(url, work / "board" / "audio")
    finally:
        board.terminate()
        board.wait(timeout=10)


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_on_a_shared_flashed_board(
    name: str, flashed_board: FlashedBoard, tmp_path: Path
) -> None:
    # No declared wiring: the board's line decides. Its audio path is declared, as a lab
    # declares a sound card: the virtual board's speaker-output files (expect_audio runs).
    options = SerialOptions(
        port=flashed_board.url, audio=parse_audio_option(f"files:{flashed_board.audio}")
    )
    result = await run_scenario(
        load_scenario(REPO / "scenarios" / name),
        target=ChosenTarget(SerialTarget, options),
        artifact_dir=tmp_path / "artifacts",
        pipeline=shared_pipeline(),
    )
    if name in SKIPPED:
        assert result.status is Status.SKIPPED, result.detail
        assert SKIPPED[name] in result.reason
        return
    assert result.status is Status.PASSED, result.detail
    # The server URL provisioned on the board is the runner's tap: it saw everything.
    assert wire_problems(tmp_path / "artifacts") == []
