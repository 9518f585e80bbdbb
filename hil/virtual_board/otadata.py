"""The `otadata` partition in ESP-IDF's format: which OTA slot the bootloader starts.

Owns reading and writing `esp_ota_select_entry_t` (esp_flash_partitions.h): two sectors,
each starting with `{uint32 ota_seq; uint8 seq_label[20]; uint32 ota_state; uint32 crc}`,
where `crc = crc32_le(UINT32_MAX, &ota_seq, 4)` (ESP-IDF otatool computes it the same
way). The entry with the highest valid `ota_seq` wins and selects slot
`(ota_seq - 1) % number_of_ota_slots`; an erased partition (all 0xFF) means "start the
first app partition", which is what `idf.py flash` and `teddy-hil flash` leave behind.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass
from typing import Final

ENTRY: Final = struct.Struct("<I20sII")
SECTOR: Final = 0x1000
UNSET_SEQ: Final = 0xFFFFFFFF
# esp_ota_img_states_t
STATE_CODES: Final = {
    "new": 0x0,
    "pending_verify": 0x1,
    "valid": 0x2,
    "invalid": 0x3,
    "aborted": 0x4,
}
STATE_NAMES: Final = {code: name for name, code in STATE_CODES.items()}
UNDEFINED_STATE: Final = 0xFFFFFFFF


def entry_crc(seq: int) -> int:
    return binascii.crc32(struct.pack("<I", seq), 0xFFFFFFFF) & 0xFFFFFFFF


@dataclass(frozen=True)
class OtaSelect:
    """One valid otadata entry."""

    seq: int
    state: str  # a STATE_CODES name, or "undefined"

    def slot_index(self, ota_slots: int) -> int:
        return (self.seq - 1) % ota_slots

    def pack(self) -> bytes:
        code = STATE_CODES.get(self.state, UNDEFINED_STATE)
        return ENTRY.pack(self.seq, b"\xff" * 20, code, entry_crc(self.seq))


def is_erased(region: bytes) -> bool:
    return region.count(0xFF) == len(region)


def read_selected(region: bytes) -> OtaSelect | None:
    """The entry the bootloader follows (highest valid seq), None when there is none."""
    best: OtaSelect | None = None
    for start in (0, SECTOR):
        if start + ENTRY.size > len(region):
            break
        seq, _label, code, crc = ENTRY.unpack_from(region, start)
        if seq == UNSET_SEQ or crc != entry_crc(seq):
            continue
        if best is None or seq > best.seq:
            best = OtaSelect(seq, STATE_NAMES.get(code, "undefined"))
    return best


def region_for(select: OtaSelect, size: int) -> bytes:
    """A whole otadata partition holding `select` in the sector ESP-IDF would use."""
    sectors = [bytearray(b"\xff" * SECTOR) for _ in range(max(1, size // SECTOR))]
    target = sectors[select.seq % len(sectors)]
    target[: ENTRY.size] = select.pack()
    return b"".join(bytes(s) for s in sectors)[:size]


def seq_for_slot(index: int, *, at_least: int, ota_slots: int) -> int:
    """The smallest ota_seq >= at_least (and >= 1) that selects slot `index`."""
    seq = max(1, at_least)
    while (seq - 1) % ota_slots != index:
        seq += 1
    return seq
