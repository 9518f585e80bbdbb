"""A virtual ESP32 dev board on a TCP port that real esptool flashes (issue 5).

| module | owns |
|---|---|
| `slip.py` | SLIP framing |
| `registers.py` | the ESP32 registers esptool reads (magic, eFuse MAC, SPI flash id) |
| `rom.py` | the serial download protocol (ROM loader and flasher stub), sans I/O |
| `flash_image.py` | the 4 MB flash file |
| `app.py` | run mode: the flashed app, the boot banner, the emulator's image |
| `board.py` | reset/strapping over `socket://`, one client at a time |
| `cli.py` | `teddy-hil virtual-board` |
"""

from hil.virtual_board.board import BoardConfig, VirtualBoard
from hil.virtual_board.errors import VirtualBoardError

__all__ = ["BoardConfig", "VirtualBoard", "VirtualBoardError"]
