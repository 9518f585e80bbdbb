"""A virtual ESP32 dev board on a TCP port that real esptool flashes (issue 5).

| module | owns |
|---|---|
| `slip.py` | SLIP framing |
| `registers.py` | the ESP32 registers esptool reads (magic, eFuse MAC, SPI flash id) |
| `rom.py` | the serial download protocol (ROM loader and flasher stub), sans I/O |
| `flash_image.py` | the 4 MB flash file |
| `app.py` | run mode: the flashed app, the boot banner, the emulator's image |
| `otadata.py` | ESP-IDF's otadata entries (which OTA slot boots) |
| `bootloader.py` | partition table, boot slot, flash.bin <-> the emulator's A/B flash |
| `board.py` | reset/strapping over `socket://`, one client at a time |
| `rfc2217.py` | the same board on `rfc2217://`: DTR/RTS resets as esp_rfc2217_server does |
| `cli.py` | `teddy-hil virtual-board` |

Import the modules themselves (`hil.virtual_board.board`, ...): the package does not, so
using `app.py` or `otadata.py` does not load the emulator.
"""
