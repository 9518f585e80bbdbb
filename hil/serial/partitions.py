"""ESP-IDF partition tables (CSV or the binary at 0x8000): where the app slot, otadata and NVS are.

`teddy-hil flash` writes the app "to its slot": the first app partition of the table
(`factory`, else `ota_0`), the way `idf.py flash` does. The table comes from the file
the user gives, else from the board itself (read at 0x8000), else the repo's
`firmware/partitions.csv`. Binary format: 32-byte entries `AA 50 type subtype offset size
label[16] flags`, ended by the MD5 entry (`EB EB`) or erased flash (`FF`).
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.serial.errors import FlashError

TABLE_OFFSET: Final = 0x8000
TABLE_MAX: Final = 0xC00
REPO_TABLE: Final = Path(__file__).resolve().parents[2] / "firmware" / "partitions.csv"
# ESP-IDF components/partition_table/partitions_two_ota.csv: what the virtual board (and a
# factory restore) assume when a board holds no table at 0x8000.
IDF_TWO_OTA_CSV: Final = """\
nvs,      data, nvs,     0x9000,   0x4000,
otadata,  data, ota,     0xd000,   0x2000,
phy_init, data, phy,     0xf000,   0x1000,
ota_0,    app,  ota_0,   0x10000,  1M,
ota_1,    app,  ota_1,   0x110000, 1M,
"""
_ENTRY: Final = struct.Struct("<2sBBII16sI")
_TYPES: Final = {"app": 0x00, "data": 0x01}
_SUBTYPES: Final = {
    "factory": 0x00,
    "test": 0x20,
    "ota": 0x00,
    "phy": 0x01,
    "nvs": 0x02,
    "coredump": 0x03,
    "nvs_keys": 0x04,
    "efuse": 0x05,
    "fat": 0x81,
    "spiffs": 0x82,
    **{f"ota_{i}": 0x10 + i for i in range(16)},
}
_SIZE_RE: Final = re.compile(r"(0x[0-9a-fA-F]+|[0-9]+)([KkMm]?)")


@dataclass(frozen=True)
class Partition:
    name: str
    type: int
    subtype: int
    offset: int
    size: int

    @property
    def is_app(self) -> bool:
        return self.type == 0x00


@dataclass(frozen=True)
class Layout:
    partitions: tuple[Partition, ...]
    source: str  # where the table came from, for the report

    def app_slot(self) -> Partition:
        apps = [p for p in self.partitions if p.is_app]
        for wanted in (0x00, 0x10):  # factory, then ota_0 (what the bootloader starts)
            for part in apps:
                if part.subtype == wanted:
                    return part
        if apps:
            return apps[0]
        raise FlashError(f"the partition table ({self.source}) has no app partition")

    def data(self, subtype: int) -> Partition | None:
        return next((p for p in self.partitions if p.type == 0x01 and p.subtype == subtype), None)


def _number(text: str) -> int:
    match = _SIZE_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a size/offset")
    value = int(match.group(1), 0)
    return value * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]


def parse_csv(text: str, *, source: str) -> Layout:
    """A partitions.csv as ESP-IDF's gen_esp32part reads it (blank offsets are packed)."""
    parts: list[Partition] = []
    offset = TABLE_OFFSET + 0x1000
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in line.split(",")] + [""] * 6
        try:
            ptype = _TYPES[cells[1]] if cells[1] in _TYPES else int(cells[1], 0)
            sub = _SUBTYPES[cells[2]] if cells[2] in _SUBTYPES else int(cells[2], 0)
            align = 0x10000 if ptype == 0 else 0x1000
            start = _number(cells[3]) if cells[3] else -(-offset // align) * align
            size = _number(cells[4])
        except (KeyError, ValueError) as exc:
            raise FlashError(
                f"{source}:{number}: bad partition line {raw.strip()!r} ({exc})"
            ) from None
        parts.append(Partition(cells[0], ptype, sub, start, size))
        offset = start + size
    return Layout(tuple(parts), source)


def parse_binary(data: bytes, *, source: str) -> Layout:
    """The binary table (as read from 0x8000); FlashError when it holds no entry."""
    parts: list[Partition] = []
    for start in range(0, len(data) - _ENTRY.size + 1, _ENTRY.size):
        magic, ptype, sub, offset, size, label, _flags = _ENTRY.unpack_from(data, start)
        if magic != b"\xaa\x50":
            break  # EB EB = MD5 entry, FF FF = end of table
        name = label.split(b"\x00", 1)[0].decode("ascii", errors="replace")
        parts.append(Partition(name, ptype, sub, offset, size))
    if not parts:
        raise FlashError(f"{source} holds no partition table")
    return Layout(tuple(parts), source)


def load_table(path: Path) -> Layout:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FlashError(f"cannot read the partition table {path}: {exc.strerror}") from None
    if data[:2] == b"\xaa\x50":
        return parse_binary(data, source=str(path))
    return parse_csv(data.decode("utf-8", errors="replace"), source=str(path))


def to_binary(layout: Layout) -> bytes:
    """The table as gen_esp32part.py writes it: entries, the MD5 entry, 0xFF to 0xC00."""
    entries = b"".join(
        _ENTRY.pack(b"\xaa\x50", p.type, p.subtype, p.offset, p.size, p.name.encode()[:16], 0)
        for p in layout.partitions
    )
    digest = hashlib.md5(entries, usedforsecurity=False).digest()
    table = entries + b"\xeb\xeb" + b"\xff" * 14 + digest
    if len(table) > TABLE_MAX:
        raise FlashError(f"{layout.source}: {len(layout.partitions)} partitions do not fit 0xC00")
    return table + b"\xff" * (TABLE_MAX - len(table))


def table_image(path: Path) -> bytes:
    """The bytes to write at 0x8000 for a binary or CSV table file."""
    layout = load_table(path)
    data = path.read_bytes()
    return data if data[:2] == b"\xaa\x50" else to_binary(layout)


def idf_two_ota_layout() -> Layout:
    return parse_csv(IDF_TWO_OTA_CSV, source="ESP-IDF default two-OTA table (none at 0x8000)")
