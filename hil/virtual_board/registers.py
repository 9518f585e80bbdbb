"""The few ESP32 registers esptool reads or writes, modelled as a register file.

Owns what `read_reg`/`write_reg` see: the chip-detect magic word in ROM, the eFuse
words (MAC in words 1-2, package and revision bits in 3 and 5, as esptool's
`targets/esp32.py` decodes them), the UART clock divider (crystal frequency), and the
SPI0 controller, whose user command (`run_spiflash_command`) is executed on write of
SPI_CMD_USR: RDID answers a 4 MB flash id, SFDP its signature, anything else 0.
Unknown addresses read 0 and keep what was written, like RAM would.
"""

from __future__ import annotations

from typing import Final

CHIP_DETECT_MAGIC_REG: Final = 0x40001000
ESP32_MAGIC: Final = 0x00F01D83  # esptool ESP32ROM.MAGIC_VALUE
EFUSE_BASE: Final = 0x3FF5A000
APB_CTL_DATE_ADDR: Final = 0x3FF6607C
UART_CLKDIV_REG: Final = 0x3FF40014
SPI_BASE: Final = 0x3FF42000
SPI_CMD_REG: Final = SPI_BASE
SPI_USR2_REG: Final = SPI_BASE + 0x24
SPI_W0_REG: Final = SPI_BASE + 0x80
SPI_CMD_USR: Final = 1 << 18
SPIFLASH_RDID: Final = 0x9F
SPIFLASH_SFDP: Final = 0x5A
FLASH_ID_4MB: Final = 0x1640EF  # Winbond W25Q32: vendor 0xEF, size id 0x16 = 4 MB
SFDP_SIGNATURE: Final = 0x50444653
CLKDIV_40MHZ_115200: Final = 347  # esptool: 115200 * 347 / 1e6 ~ 40 MHz crystal


def efuse_words(mac: bytes) -> dict[int, int]:
    """eFuse BLK0 read words for `mac`: ESP32-D0WD-V3, revision v3.0, 40 MHz."""
    if len(mac) != 6:
        raise ValueError("a MAC has 6 bytes")
    word1 = int.from_bytes(mac[2:6], "big")
    word2 = (mac[0] << 8) | mac[1]  # the CRC byte above is not checked by esptool
    word3 = (1 << 9) | (1 << 15)  # package D0WD (1), revision bit 0
    word5 = 1 << 20  # revision bit 1
    return {1: word1, 2: word2, 3: word3, 5: word5}


class Esp32Registers:
    """Register file of one virtual ESP32 (reset on every power-on)."""

    def __init__(self, mac: bytes) -> None:
        self._regs: dict[int, int] = {
            CHIP_DETECT_MAGIC_REG: ESP32_MAGIC,
            APB_CTL_DATE_ADDR: 1 << 31,  # revision bit 2 (v3.x)
            UART_CLKDIV_REG: CLKDIV_40MHZ_115200,
        }
        for index, value in efuse_words(mac).items():
            self._regs[EFUSE_BASE + 4 * index] = value

    def read(self, addr: int) -> int:
        return self._regs.get(addr, 0)

    def write(self, addr: int, value: int, mask: int) -> None:
        old = self._regs.get(addr, 0)
        self._regs[addr] = ((old & ~mask) | (value & mask)) & 0xFFFFFFFF
        if addr == SPI_CMD_REG and value & SPI_CMD_USR:
            self._run_spi_command()

    def _run_spi_command(self) -> None:
        command = self._regs.get(SPI_USR2_REG, 0) & 0xFF
        answers = {SPIFLASH_RDID: FLASH_ID_4MB, SPIFLASH_SFDP: SFDP_SIGNATURE}
        self._regs[SPI_W0_REG] = answers.get(command, 0)
        self._regs[SPI_CMD_REG] &= ~SPI_CMD_USR  # done at once: wait_done() sees 0
