"""Run mode: reading the app image in an app partition and handing it to the emulator.

Owns reading a flashed app image (its app descriptor version, SPEC §5.3), the
ESP-IDF-like boot banner (free text, not SPEC §8 event lines), and installing the image
as the Python emulator's factory state: the exact flashed bytes become the emulator's
running slot, so the `boot` event's `fw_version` is the flashed image's and behaviour
markers in the payload (emulator/README.md) take effect. Which partition boots is
`bootloader.py`'s decision. The emulator's NVS survives re-flashing, as the NVS
partition of a real board does when only the app is written.
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

APP_OFFSET: Final = 0x10000  # ota_0 of ESP-IDF's default two-OTA table
APP_MAX_SIZE: Final = 0x180000  # the emulator's slot size (emulator.flash.PARTITIONS)
# What a factory restore resets. efuse.json too: the virtual board keeps its eFuses in
# flash like ESP-IDF's CONFIG_EFUSE_VIRTUAL_KEEP_IN_FLASH, so an anti-rollback scenario
# cannot brick the board for the next one (a real board's eFuses are one-time).
EMULATOR_FILES: Final = ("ota_0.bin", "otadata.json", "efuse.json")


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


def find_app(
    flash: FlashImage, offset: int = APP_OFFSET, size: int = APP_MAX_SIZE
) -> FlashedApp | str:
    """The app image at `offset`, or the reason the bootloader cannot boot it (one line)."""
    head = flash.read(offset, HEADER_PEEK_LEN)
    if head[0] != 0xE9:
        magic = int.from_bytes(head[:4], "little")
        return f"invalid header: {magic:#010x}"
    try:
        parsed = read_app_image(flash.read(offset, min(size, APP_MAX_SIZE)), strict=True)
    except ProtocolError as exc:
        return f"image at {offset:#x} is not valid: {exc}"
    desc = parsed.app_desc
    assert desc is not None  # strict=True refuses images without a descriptor
    image = flash.read(offset, parsed.length)
    return FlashedApp(image, desc.version, desc.secure_version, desc.project_name)


def boot_banner(app: FlashedApp | str, *, download: bool, offset: int = APP_OFFSET) -> list[str]:
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
        f"I (45) esp_image: segment 0: paddr={offset + 0x20:08x} (app image)",
        f"I (90) boot: Loaded app from partition at offset {offset:#x}",
        f"I (120) app_init: Project name:     {app.project_name}",
        f"I (121) app_init: App version:      {app.version}",
    ]


def install_factory(app: FlashedApp, emulator_dir: Path) -> None:
    """Make `app` the emulator's boot image (ota_0, valid) with otadata reset.

    ota_1.bin stays: erasing otadata leaves the other slot's bytes in flash, so a download
    cut by a power loss can still resume from them (SPEC §5.2).
    """
    for name in EMULATOR_FILES:
        (emulator_dir / name).unlink(missing_ok=True)
    Flash(emulator_dir).write_factory(app.image, secure_version=app.secure_version)
