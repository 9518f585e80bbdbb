"""Real esptool against the virtual board: sync, detect, MAC, write-flash, verify-flash."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.virtual_board.board import VirtualBoard
from protocol.image import build_app_image
from tests.hil_virtual_board.conftest import esptool

pytestmark = pytest.mark.emu


def app_file(tmp_path: Path, version: str, name: str = "app.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(build_app_image(version=version, payload=bytes(range(256)) * 64))
    return path


@pytest.mark.parametrize(
    "mode",
    [["--no-stub"], [], ["--no-stub", "--no-compress"], ["--no-compress"]],
    ids=["rom-deflate", "stub-deflate", "rom-plain", "stub-plain"],
)
async def test_write_then_verify(tmp_path: Path, board: VirtualBoard, mode: list[str]) -> None:
    app = app_file(tmp_path, "1.4.0")
    stub = [m for m in mode if m == "--no-stub"]
    compress = [m for m in mode if m == "--no-compress"]
    wrote = await esptool(
        board.url, *stub, "--after", "no-reset", "write-flash", *compress, "0x10000", str(app)
    )
    assert wrote.returncode == 0, wrote.output
    assert "Hash of data verified" in wrote.output
    assert "ESP32-D0WD-V3" in wrote.output and "24:0a:c4:a7:95:ba" in wrote.output
    checked = await esptool(
        board.url, *stub, "--after", "no-reset", "verify-flash", "0x10000", str(app)
    )
    assert checked.returncode == 0, checked.output
    assert "Verification successful" in checked.output
    assert board.flash.read(0x10000, app.stat().st_size) == app.read_bytes()


async def test_wrong_image_fails_verify(tmp_path: Path, board: VirtualBoard) -> None:
    flashed = app_file(tmp_path, "1.4.0")
    other = app_file(tmp_path, "1.4.1", "other.bin")
    wrote = await esptool(
        board.url, "--no-stub", "--after", "no-reset", "write-flash", "0x10000", str(flashed)
    )
    assert wrote.returncode == 0, wrote.output
    checked = await esptool(
        board.url, "--no-stub", "--after", "no-reset", "verify-flash", "0x10000", str(other)
    )
    assert checked.returncode != 0
    assert "Verification failed" in checked.output or "digest mismatch" in checked.output.lower()


async def test_read_mac_and_flash_persist(tmp_path: Path, board: VirtualBoard) -> None:
    mac = await esptool(board.url, "--after", "no-reset", "read-mac")
    assert mac.returncode == 0, mac.output
    assert "MAC:                24:0a:c4:a7:95:ba" in mac.output
    fid = await esptool(board.url, "--no-stub", "--after", "no-reset", "flash-id")
    assert "Detected flash size: 4MB" in fid.output
    assert (tmp_path / "board" / "flash.bin").stat().st_size == 4 * 1024 * 1024
