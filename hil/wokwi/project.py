"""The Wokwi project: the firmware build to upload, the app it boots, the circuit.

Client side (`find_build`): the ESP-IDF build the `wokwi` target uploads, its `build`
option (`--wokwi-build`, default `firmware/build`; hil.wokwi.options): a build folder with
`flasher_args.json` (every flash section at its offset, as `idf.py build` writes it), or a
firmware `.bin` (app image or merged image) with its ELF beside it (or the `elf` option).

Server side (`find_app`): the app image inside what the client uploaded, looked up as a
second-stage bootloader would: the partition table at 0x8000 -> its first app partition,
else the image at 0x10000, else the uploaded file itself when it is an app image.

Both sides (`button_part`): the push button of `diagram.json` wired to a GPIO of the
board part (the DevKit's pin names are the GPIO numbers), as `firmware/diagram.json`
wires GPIO0 (TEDDY_BUTTON_GPIO): the target presses it with `set_control`, the local
server checks `control:set` against it.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.errors import HilError
from hil.virtual_board.app import APP_MAX_SIZE, FlashedApp
from protocol.errors import ProtocolError
from protocol.image import ESP_IMAGE_MAGIC, read_app_image

ENV_BUILD: Final = "TEDDY_WOKWI_BUILD"  # the default of --wokwi-build (hil.wokwi.options)
ENV_ELF: Final = "TEDDY_WOKWI_ELF"
DEFAULT_BUILD: Final = Path("firmware/build")
PROJECT: Final = "teddy"  # project(teddy) in firmware/CMakeLists.txt
PARTITION_TABLE_OFFSET: Final = 0x8000
DEFAULT_APP_OFFSET: Final = 0x10000
_ENTRY: Final = struct.Struct("<2sBBII16sI")  # esp_partition_info_t (32 bytes)
_ENTRY_MAGIC: Final = b"\xaa\x50"
_APP_TYPE: Final = 0x00
_MAX_ENTRIES: Final = 95  # a 0xC00-byte table


@dataclass(frozen=True)
class Build:
    """The files of one build: `sections` (offset -> path) or one `firmware` file."""

    origin: Path
    sections: Mapping[int, Path] | None = None
    firmware: Path | None = None
    elf: Path | None = None
    flash_size_mb: int | None = None

    @property
    def size(self) -> int:
        files = list(self.sections.values()) if self.sections else [self.firmware]
        return sum(p.stat().st_size for p in files if p is not None)

    def app(self) -> FlashedApp | str:
        """The app image the simulation will boot (as `find_app` finds it), or why none."""
        if self.sections:
            return find_app(Flash({o: p.read_bytes() for o, p in self.sections.items()}))
        assert self.firmware is not None
        return find_app(Flash({0: self.firmware.read_bytes()}))


def find_build(where: Path = DEFAULT_BUILD, *, elf: Path | None = None) -> Build:
    """The build at `where` (`elf`: the ELF of a bare .bin); HilError says what to build."""
    if where.is_dir() and (where / "flasher_args.json").is_file():
        return _from_flasher_args(where / "flasher_args.json", elf)
    if where.name == "flasher_args.json" and where.is_file():
        return _from_flasher_args(where, elf)
    if where.is_dir() and (where / f"{PROJECT}.bin").is_file():
        found = where / f"{PROJECT}.bin"
        return Build(where, firmware=found, elf=elf or _existing(where / f"{PROJECT}.elf"))
    if where.is_file():
        return Build(where, firmware=where, elf=elf or _existing(where.with_suffix(".elf")))
    raise HilError(
        f"no ESP-IDF build at {where}: run `idf.py build` in firmware/ or point --wokwi-build"
        f" (${ENV_BUILD}) at a build folder (flasher_args.json) or a firmware .bin"
    )


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _from_flasher_args(path: Path, elf: Path | None) -> Build:
    try:
        args = json.loads(path.read_text("utf-8"))
        files = args["flash_files"]
        sections = {int(offset, 16): path.parent / name for offset, name in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HilError(f"{path}: not a flasher_args.json of idf.py build ({exc})") from None
    missing = [str(p) for p in sections.values() if not p.is_file()]
    if missing:
        raise HilError(f"{path}: missing build output {', '.join(missing)}; rebuild")
    size = str(args.get("flash_settings", {}).get("flash_size", ""))
    app = args.get("app", {}).get("file") if isinstance(args.get("app"), dict) else None
    if elf is None and isinstance(app, str):
        elf = _existing((path.parent / app).with_suffix(".elf"))
    return Build(
        path,
        sections=sections,
        elf=elf,
        flash_size_mb=int(size[:-2]) if size.endswith("MB") and size[:-2].isdigit() else None,
    )


# --- server side ------------------------------------------------------------------------


class Flash:
    """Uploaded sections placed at their offsets; reads outside them are erased (0xFF)."""

    def __init__(self, sections: Mapping[int, bytes]) -> None:
        self.sections = dict(sorted(sections.items()))

    def read(self, offset: int, size: int) -> bytes:
        out = bytearray(b"\xff" * size)
        for start, data in self.sections.items():
            lo, hi = max(start, offset), min(start + len(data), offset + size)
            if lo < hi:
                out[lo - offset : hi - offset] = data[lo - start : hi - start]
        return bytes(out)

    def has(self, offset: int) -> bool:
        return any(s <= offset < s + len(d) for s, d in self.sections.items())


def first_app_offset(table: bytes) -> int | None:
    """The offset of the first app partition in an ESP-IDF partition table, or None."""
    for index in range(_MAX_ENTRIES):
        raw = table[index * _ENTRY.size : (index + 1) * _ENTRY.size]
        if len(raw) < _ENTRY.size:
            return None
        magic, ptype, _subtype, offset, _size, _label, _flags = _ENTRY.unpack(raw)
        if magic != _ENTRY_MAGIC:
            return None  # 0xFFFF end marker or the MD5 entry (0xEBEB)
        if ptype == _APP_TYPE:
            return int(offset)
    return None


def _parse(image: bytes, where: str) -> FlashedApp | str:
    if not image or image[0] != ESP_IMAGE_MAGIC:
        return f"no app image at {where} (first byte {image[:1].hex() or 'missing'})"
    try:
        parsed = read_app_image(image, strict=True)
    except ProtocolError as exc:
        return f"app image at {where} is not valid: {exc}"
    desc = parsed.app_desc
    assert desc is not None  # strict=True refuses images without a descriptor
    return FlashedApp(image[: parsed.length], desc.version, desc.secure_version, desc.project_name)


def find_app(flash: Flash) -> FlashedApp | str:
    """The app a bootloader would start from `flash`, or why none (one line)."""
    if flash.has(PARTITION_TABLE_OFFSET):
        offset = first_app_offset(flash.read(PARTITION_TABLE_OFFSET, 0xC00))
        if offset is not None:
            return _parse(flash.read(offset, APP_MAX_SIZE), f"{offset:#x} (partition table)")
    problems: list[str] = []
    if flash.has(DEFAULT_APP_OFFSET):
        found = _parse(flash.read(DEFAULT_APP_OFFSET, APP_MAX_SIZE), f"{DEFAULT_APP_OFFSET:#x}")
        if isinstance(found, FlashedApp):
            return found
        problems.append(found)
    if 0 in flash.sections:  # a bare app .bin uploaded as the firmware file
        found = _parse(flash.sections[0][:APP_MAX_SIZE], "the start of the firmware file")
        if isinstance(found, FlashedApp):
            return found
        problems.append(found)
    return "; ".join(problems) or "no firmware section at 0x0, 0x8000 or 0x10000"


# --- the circuit ----------------------------------------------------------------------

BUTTON_TYPE: Final = "wokwi-pushbutton"
BOARD_PREFIX: Final = "board-"
DEFAULT_DIAGRAM: Final = Path("firmware/diagram.json")
BUTTON_GPIO: Final = 0  # firmware/main/Kconfig.projbuild TEDDY_BUTTON_GPIO default


def parse_diagram(text: str, *, where: str = "diagram.json") -> dict[str, object]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HilError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), list):
        raise HilError(f"{where}: a Wokwi diagram needs a `parts` list")
    return data


def load_diagram(path: Path) -> dict[str, object]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise HilError(f"cannot read the Wokwi diagram {path}: {exc.strerror}") from None
    return parse_diagram(text, where=str(path))


def _parts(diagram: dict[str, object]) -> list[dict[str, object]]:
    parts = diagram.get("parts")
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def board_part(diagram: dict[str, object]) -> str | None:
    """The id of the first `board-*` part (the MCU), or None."""
    for part in _parts(diagram):
        if str(part.get("type", "")).startswith(BOARD_PREFIX):
            return str(part.get("id"))
    return None


def button_part(diagram: dict[str, object], gpio: int = BUTTON_GPIO) -> str | None:
    """The id of the push button wired to the board's `gpio`, or None."""
    board = board_part(diagram)
    buttons = {str(p.get("id")) for p in _parts(diagram) if p.get("type") == BUTTON_TYPE}
    if board is None or not buttons:
        return None
    pins = {f"{board}:{gpio}", f"{board}:GPIO{gpio}", f"{board}:D{gpio}"}
    connections = diagram.get("connections")
    for wire in connections if isinstance(connections, list) else []:
        if not isinstance(wire, list) or len(wire) < 2:
            continue
        ends = [str(wire[0]), str(wire[1])]
        for here, there in (ends, ends[::-1]):
            part = here.split(":", 1)[0]
            if part in buttons and there in pins:
                return part
    return None
