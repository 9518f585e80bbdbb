"""ESP32 application image writer and reader (esptool/ESP-IDF app image format).

Owns SPEC §5.3: images are real ESP-IDF app images (0xE9 header, extended header
with the chip id, segments, XOR checksum, appended SHA-256) whose first segment
starts with an `esp_app_desc_t` carrying the version, so esptool's own parser
accepts what the reference server serves and the device verifies. The layout of
`esp_app_desc_t` follows ESP-IDF master (`esp_app_format/include/esp_app_desc.h`):
`mmu_page_size` then `spi_flash_mode`, `reserv3[2]`, `reserv2[18]`.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Final

from protocol.constants import CHIP_IDS, CHIP_NAMES
from protocol.errors import ImageError, ProtocolError

ESP_IMAGE_MAGIC: Final = 0xE9
CHECKSUM_SEED: Final = 0xEF
APP_DESC_MAGIC: Final = 0xABCD5432
IMAGE_HEADER_LEN: Final = 24
SEGMENT_HEADER_LEN: Final = 8
APP_DESC_LEN: Final = 256
DIGEST_LEN: Final = 32
MAX_SEGMENTS: Final = 16
# Header + first segment header + app descriptor: enough to decide early, like
# esp_https_ota does before it writes the rest of the image.
HEADER_PEEK_LEN: Final = IMAGE_HEADER_LEN + SEGMENT_HEADER_LEN + APP_DESC_LEN
CHIP_ID_OFFSET: Final = 12
APP_DESC_OFFSET: Final = IMAGE_HEADER_LEN + SEGMENT_HEADER_LEN
WP_PIN_DISABLED: Final = 0xEE
FLASH_MODE_DIO: Final = 2
FLASH_4MB_40MHZ: Final = 0x20
REV_UNLIMITED: Final = 0xFFFF

_COMMON: Final = struct.Struct("<BBBBI")
_EXTENDED: Final = struct.Struct("<BBBBHBHH4sB")
_SEGMENT: Final = struct.Struct("<II")
_APP_DESC: Final = struct.Struct("<II8s32s32s16s16s32s32sHHBB2s72s")


@dataclass(frozen=True)
class ChipLayout:
    """Where a chip maps flash data (DROM) and loads code (IRAM), from esptool's maps."""

    chip_id: int
    drom_base: int
    iram_base: int


CHIP_LAYOUTS: Final[dict[str, ChipLayout]] = {
    "esp32": ChipLayout(CHIP_IDS["esp32"], 0x3F400000, 0x40080000),
    "esp32s2": ChipLayout(CHIP_IDS["esp32s2"], 0x3F000000, 0x40020000),
    "esp32s3": ChipLayout(CHIP_IDS["esp32s3"], 0x3C000000, 0x40370000),
    "esp32c3": ChipLayout(CHIP_IDS["esp32c3"], 0x3C000000, 0x4037C000),
    "esp32c2": ChipLayout(CHIP_IDS["esp32c2"], 0x3C000000, 0x4037C000),
    "esp32c6": ChipLayout(CHIP_IDS["esp32c6"], 0x42800000, 0x40800000),
    "esp32h2": ChipLayout(CHIP_IDS["esp32h2"], 0x42800000, 0x40800000),
}


def _cstr(value: str, size: int, name: str) -> bytes:
    raw = value.encode()
    if len(raw) >= size:  # keep room for the NUL terminator C code relies on
        raise ProtocolError(f"{name} {value!r} is longer than {size - 1} bytes")
    return raw.ljust(size, b"\0")


def _from_cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


@dataclass(frozen=True)
class AppDescriptor:
    """`esp_app_desc_t` (256 bytes) at the start of the first segment."""

    version: str
    project_name: str
    secure_version: int = 0
    time: str = "00:00:00"
    date: str = "Jan  1 2025"
    idf_ver: str = "v5.4.1"
    app_elf_sha256: bytes = bytes(32)
    min_efuse_blk_rev_full: int = 0
    max_efuse_blk_rev_full: int = 99
    mmu_page_size: int = 16  # log2: 64 KB pages
    spi_flash_mode: int = FLASH_MODE_DIO

    def pack(self) -> bytes:
        """The 256 little-endian bytes of the struct."""
        return _APP_DESC.pack(
            APP_DESC_MAGIC,
            self.secure_version,
            bytes(8),
            _cstr(self.version, 32, "version"),
            _cstr(self.project_name, 32, "project_name"),
            _cstr(self.time, 16, "time"),
            _cstr(self.date, 16, "date"),
            _cstr(self.idf_ver, 32, "idf_ver"),
            self.app_elf_sha256,
            self.min_efuse_blk_rev_full,
            self.max_efuse_blk_rev_full,
            self.mmu_page_size,
            self.spi_flash_mode,
            bytes(2),
            bytes(72),
        )

    @classmethod
    def unpack(cls, data: bytes) -> AppDescriptor:
        """Parse 256 bytes; raises ImageError(truncated | bad_magic)."""
        if len(data) < APP_DESC_LEN:
            raise ImageError("truncated", "app descriptor shorter than 256 bytes")
        (magic, secure, _r1, ver, name, time, date, idf, elf, lo, hi, mmu, mode, _r3, _r2) = (
            _APP_DESC.unpack(data[:APP_DESC_LEN])
        )
        if magic != APP_DESC_MAGIC:
            raise ImageError("bad_magic", f"app descriptor magic {magic:#010x}")
        return cls(
            _from_cstr(ver),
            _from_cstr(name),
            secure,
            _from_cstr(time),
            _from_cstr(date),
            _from_cstr(idf),
            elf,
            lo,
            hi,
            mmu,
            mode,
        )


@dataclass(frozen=True)
class ImageHeader:
    """The 8-byte common header plus the 16-byte extended header."""

    segment_count: int
    entry: int
    chip_id: int
    hash_appended: bool = True
    flash_mode: int = FLASH_MODE_DIO
    flash_size_freq: int = FLASH_4MB_40MHZ
    wp_pin: int = WP_PIN_DISABLED
    min_rev: int = 0
    min_rev_full: int = 0
    max_rev_full: int = REV_UNLIMITED

    @property
    def chip(self) -> str | None:
        """Chip name for the header's chip id, None when unknown."""
        return CHIP_NAMES.get(self.chip_id)

    def pack(self) -> bytes:
        common = _COMMON.pack(
            ESP_IMAGE_MAGIC, self.segment_count, self.flash_mode, self.flash_size_freq, self.entry
        )
        extended = _EXTENDED.pack(
            self.wp_pin,
            0,
            0,
            0,
            self.chip_id,
            self.min_rev,
            self.min_rev_full,
            self.max_rev_full,
            bytes(4),
            int(self.hash_appended),
        )
        return common + extended

    @classmethod
    def unpack(cls, data: bytes) -> ImageHeader:
        """Parse the first 24 bytes; raises ImageError(bad_magic | truncated)."""
        if not data:
            raise ImageError("truncated", "empty image")
        if data[0] != ESP_IMAGE_MAGIC:
            raise ImageError("bad_magic", f"first byte {data[0]:#04x}, expected 0xe9")
        if len(data) < IMAGE_HEADER_LEN:
            raise ImageError("truncated", f"header needs {IMAGE_HEADER_LEN} bytes")
        _magic, count, mode, size_freq, entry = _COMMON.unpack_from(data)
        wp, _d1, _d2, _d3, chip_id, min_rev, lo, hi, _res, hashed = _EXTENDED.unpack_from(data, 8)
        # bad_magic covers "this does not look like an app image" (SPEC §5.4).
        if not 1 <= count <= MAX_SEGMENTS:
            raise ImageError("bad_magic", f"segment count {count} outside 1..{MAX_SEGMENTS}")
        if hashed not in (0, 1):
            raise ImageError("bad_magic", f"hash_appended byte {hashed:#04x}")
        return cls(count, entry, chip_id, bool(hashed), mode, size_freq, wp, min_rev, lo, hi)


@dataclass(frozen=True)
class Segment:
    """One load segment: load address, data and its offset in the file."""

    addr: int
    data: bytes
    file_offset: int = 0


@dataclass(frozen=True)
class AppImage:
    """A parsed app image; `length` excludes any trailing padding after the digest."""

    header: ImageHeader
    segments: tuple[Segment, ...]
    app_desc: AppDescriptor | None
    checksum: int
    calc_checksum: int
    stored_hash: bytes | None
    calc_hash: bytes | None
    length: int

    @property
    def chip(self) -> str | None:
        return self.header.chip

    @property
    def checksum_ok(self) -> bool:
        return self.checksum == self.calc_checksum

    @property
    def hash_ok(self) -> bool:
        """True when the appended SHA-256 matches (or no hash is appended)."""
        return self.stored_hash == self.calc_hash


def _xor_checksum(segments: Sequence[bytes]) -> int:
    return reduce(lambda acc, data: reduce(int.__xor__, data, acc), segments, CHECKSUM_SEED)


def _checksum_index(position: int) -> int:
    # The checksum is the last byte of the 16-byte block after the segments.
    return position + 15 - position % 16


def _pad4(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def build_app_image(
    *,
    version: str,
    chip: str = "esp32",
    secure_version: int = 0,
    project_name: str = "teddy",
    payload: bytes = b"",
    entry: int | None = None,
    segments: Sequence[tuple[int, bytes]] | None = None,
) -> bytes:
    """A valid app image: DROM segment (app descriptor + `payload`) then `segments`.

    `segments` defaults to one small IRAM segment at the chip's IRAM base, which is
    also the default `entry`. Output is deterministic for the same arguments.
    """
    layout = CHIP_LAYOUTS.get(chip)
    if layout is None:
        raise ProtocolError(f"unknown chip {chip!r}; known: {', '.join(CHIP_LAYOUTS)}")
    desc = AppDescriptor(
        version=version,
        project_name=project_name,
        secure_version=secure_version,
        app_elf_sha256=hashlib.sha256(version.encode() + payload).digest(),
    )
    extra = [(layout.iram_base, bytes(16))] if segments is None else list(segments)
    # DROM is mapped so that vaddr % 64K == file offset % 64K: data starts at 0x20.
    all_segments = [(layout.drom_base + APP_DESC_OFFSET, desc.pack() + payload), *extra]
    if len(all_segments) > MAX_SEGMENTS:
        raise ProtocolError(f"at most {MAX_SEGMENTS} segments")
    header = ImageHeader(
        len(all_segments), layout.iram_base if entry is None else entry, layout.chip_id
    )
    body = bytearray(header.pack())
    padded = [_pad4(data) for _addr, data in all_segments]
    for (addr, _data), data in zip(all_segments, padded, strict=True):
        body += _SEGMENT.pack(addr, len(data)) + data
    body += bytes(_checksum_index(len(body)) - len(body))
    body.append(_xor_checksum(padded))
    return bytes(body) + hashlib.sha256(body).digest()


def _read_segments(data: bytes, count: int) -> tuple[list[Segment], int]:
    segments: list[Segment] = []
    pos = IMAGE_HEADER_LEN
    for index in range(count):
        if pos + SEGMENT_HEADER_LEN > len(data):
            raise ImageError("truncated", f"segment {index} header past end of data")
        addr, size = _SEGMENT.unpack_from(data, pos)
        start = pos + SEGMENT_HEADER_LEN
        if start + size > len(data):
            raise ImageError("truncated", f"segment {index} needs {size} bytes at {start}")
        segments.append(Segment(addr, data[start : start + size], start))
        pos = start + size
    return segments, pos


def read_app_image(data: bytes, *, strict: bool = True) -> AppImage:
    """Parse and check an app image.

    Raises ImageError: bad_magic (not an app image, or no app descriptor),
    truncated, bad_checksum, bad_hash. With `strict=False` the checksum, hash and
    descriptor problems are reported through the returned AppImage instead.
    """
    header = ImageHeader.unpack(data)
    segments, pos = _read_segments(data, header.segment_count)
    index = _checksum_index(pos)
    if index >= len(data):
        raise ImageError("truncated", "checksum byte past end of data")
    end = index + 1
    stored_hash = calc_hash = None
    if header.hash_appended:
        if end + DIGEST_LEN > len(data):
            raise ImageError("truncated", "appended SHA-256 past end of data")
        stored_hash = data[end : end + DIGEST_LEN]
        calc_hash = hashlib.sha256(data[:end]).digest()
    try:
        desc: AppDescriptor | None = AppDescriptor.unpack(segments[0].data)
    except ImageError:
        desc = None
    image = AppImage(
        header,
        tuple(segments),
        desc,
        data[index],
        _xor_checksum([s.data for s in segments]),
        stored_hash,
        calc_hash,
        end + (DIGEST_LEN if header.hash_appended else 0),
    )
    if strict:
        if not image.checksum_ok:
            raise ImageError("bad_checksum", f"stored {image.checksum:#04x}")
        if not image.hash_ok:
            raise ImageError("bad_hash", "appended SHA-256 does not match")
        if desc is None:
            raise ImageError("bad_magic", "first segment does not start with esp_app_desc_t")
    return image


def peek_app_header(prefix: bytes) -> tuple[ImageHeader, AppDescriptor]:
    """Header and app descriptor from the first HEADER_PEEK_LEN bytes of an image."""
    header = ImageHeader.unpack(prefix)
    if len(prefix) < HEADER_PEEK_LEN:
        raise ImageError("truncated", f"need {HEADER_PEEK_LEN} bytes for the app descriptor")
    _addr, size = _SEGMENT.unpack_from(prefix, IMAGE_HEADER_LEN)
    if size < APP_DESC_LEN:
        raise ImageError("bad_magic", "first segment too small for esp_app_desc_t")
    return header, AppDescriptor.unpack(prefix[APP_DESC_OFFSET:HEADER_PEEK_LEN])


# --- helpers for deliberately broken images (tests, fault scenarios) -------------------
# Truncation needs no helper: `image[:n]` (e.g. n=180 cuts the header, SPEC §5.4).


def flip_byte(image: bytes, offset: int) -> bytes:
    """`image` with the byte at `offset` inverted (negative offsets count from the end)."""
    out = bytearray(image)
    out[offset] ^= 0xFF
    return bytes(out)


def reseal(image: bytes) -> bytes:
    """Recompute the appended SHA-256 so only the deliberate damage remains visible."""
    parsed = read_app_image(image, strict=False)
    end = parsed.length - DIGEST_LEN
    return image[:end] + hashlib.sha256(image[:end]).digest() + image[parsed.length :]


def with_chip_id(image: bytes, chip_id: int) -> bytes:
    """`image` claiming another chip id in its extended header, hash kept valid."""
    out = bytearray(image)
    struct.pack_into("<H", out, CHIP_ID_OFFSET, chip_id)
    return reseal(bytes(out))
