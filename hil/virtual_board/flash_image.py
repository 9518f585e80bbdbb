"""The board's SPI flash: a 4 MB image file that survives restarts of the board.

Owns the flash contents esptool writes and reads. Like NOR flash, erased bytes are
0xFF; writes overwrite (the ROM erases before it writes, so AND-ing would change
nothing observable). The file is memory-mapped, so a killed board process keeps every
completed write (the kernel owns the pages).
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Final

from hil.virtual_board.errors import VirtualBoardError

FLASH_SIZE: Final = 4 * 1024 * 1024
SECTOR_SIZE: Final = 0x1000
FLASH_FILE: Final = "flash.bin"


class FlashImage:
    """`<dir>/flash.bin`, created blank (all 0xFF) on first use."""

    def __init__(self, directory: Path, *, size: int = FLASH_SIZE) -> None:
        self.path = directory / FLASH_FILE
        self.size = size
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if not self.path.exists() or self.path.stat().st_size != size:
                self._create_blank()
            self._fd = os.open(self.path, os.O_RDWR)
            self._map = mmap.mmap(self._fd, size)
        except OSError as exc:
            raise VirtualBoardError(f"{self.path}: cannot open the flash image ({exc})") from exc

    def _create_blank(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as out:
            out.write(b"\xff" * self.size)
        os.replace(tmp, self.path)

    def check_range(self, offset: int, length: int) -> bool:
        return offset >= 0 and length >= 0 and offset + length <= self.size

    def read(self, offset: int, length: int) -> bytes:
        if not self.check_range(offset, length):
            raise VirtualBoardError(f"flash read {offset:#x}+{length:#x} past {self.size:#x}")
        return bytes(self._map[offset : offset + length])

    def write(self, offset: int, data: bytes) -> None:
        if not self.check_range(offset, len(data)):
            raise VirtualBoardError(f"flash write {offset:#x}+{len(data):#x} past {self.size:#x}")
        self._map[offset : offset + len(data)] = data

    def erase(self, offset: int, length: int) -> None:
        """Erase whole sectors covering [offset, offset+length), like the ROM does."""
        start = offset - offset % SECTOR_SIZE
        end = min(self.size, -(-(offset + length) // SECTOR_SIZE) * SECTOR_SIZE)
        if length > 0 and start < end:
            self._map[start:end] = b"\xff" * (end - start)

    def flush(self) -> None:
        if not self._map.closed:
            self._map.flush()

    def close(self) -> None:
        if not self._map.closed:
            self._map.flush()
            self._map.close()
            os.close(self._fd)
