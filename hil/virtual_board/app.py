"""Run mode: what the second-stage bootloader finds at 0x10000 and how it boots it.

Owns reading the flashed app image (its app descriptor version, SPEC §5.3), the
ESP-IDF-like boot banner (free text, not SPEC §8 event lines), and handing the image to
the Python emulator: the exact flashed bytes become the emulator's running slot, so
the `boot` event's `fw_version` is the flashed image's and behaviour markers in the
payload (emulator/README.md) take effect. The emulator's NVS survives re-flashing, as
the NVS partition of a real board does when only the app is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from emulator.flash import Flash
from hil.virtual_board.flash_image import FlashImage
from protocol.errors import ProtocolError
from protocol.image import HEADER_PEEK_LEN, read_app_image

APP_OFFSET: Final = 0x10000
APP_MAX_SIZE: Final = 0x180000  # the emulator's slot size (emulator.flash.PARTITIONS)
STAMP_FILE: Final = "flashed-app.sha256"
EMULATOR_FILES: Final = ("ota_0.bin", "ota_1.bin", "otadata.json")


@dataclass(frozen=True)
class FlashedApp:
    """The app image found at APP_OFFSET."""

    image: bytes
    version: str
    secure_version: int
    project_name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.image).hexdigest()


def find_app(flash: FlashImage) -> FlashedApp | str:
    """The flashed app, or the reason the bootloader cannot boot it (one line)."""
    head = flash.read(APP_OFFSET, HEADER_PEEK_LEN)
    if head[0] != 0xE9:
        magic = int.from_bytes(head[:4], "little")
        return f"invalid header: {magic:#010x}"
    try:
        parsed = read_app_image(flash.read(APP_OFFSET, APP_MAX_SIZE), strict=True)
    except ProtocolError as exc:
        return f"image at {APP_OFFSET:#x} is not valid: {exc}"
    desc = parsed.app_desc
    assert desc is not None  # strict=True refuses images without a descriptor
    image = flash.read(APP_OFFSET, parsed.length)
    return FlashedApp(image, desc.version, desc.secure_version, desc.project_name)


def boot_banner(app: FlashedApp | str, *, download: bool) -> list[str]:
    """ROM and bootloader lines, close to what an ESP32 prints at 115200 baud."""
    lines = ["ets Jul 29 2019 12:21:46", ""]
    if download:
        lines += [
            "rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))",
            "waiting for download",
        ]
        return lines
    lines += [
        "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)",
        "I (29) boot: ESP-IDF v5.4.1 2nd stage bootloader",
        "I (31) boot: chip revision: v3.0",
    ]
    if isinstance(app, str):
        return [*lines, f"E (40) esp_image: {app}", "E (41) boot: No bootable app partitions"]
    return [
        *lines,
        f"I (45) esp_image: segment 0: paddr={APP_OFFSET + 0x20:08x} (app image)",
        f"I (90) boot: Loaded app from partition at offset {APP_OFFSET:#x}",
        f"I (120) app_init: Project name:     {app.project_name}",
        f"I (121) app_init: App version:      {app.version}",
    ]


def install_for_emulator(app: FlashedApp, emulator_dir: Path) -> None:
    """Make `app` the emulator's running image when it differs from the last one."""
    stamp = emulator_dir / STAMP_FILE
    if stamp.exists() and stamp.read_text("utf-8").strip() == app.sha256:
        return  # same image: keep the emulator's OTA state, as a real board would
    for name in EMULATOR_FILES:
        (emulator_dir / name).unlink(missing_ok=True)
    Flash(emulator_dir).write_factory(app.image, secure_version=app.secure_version)
    stamp.write_text(app.sha256 + "\n", "utf-8")
