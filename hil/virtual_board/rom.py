"""The ESP32 serial download protocol: ROM loader and flasher stub, sans I/O.

Owns the command set esptool 5 uses against an ESP32 (esptool `loader.py`):
SYNC, READ_REG/WRITE_REG, SPI_ATTACH/SPI_SET_PARAMS, FLASH_BEGIN/DATA/END,
FLASH_DEFL_BEGIN/DATA/END (zlib), SPI_FLASH_MD5, CHANGE_BAUDRATE, READ_FLASH_SLOW
(ROM), MEM_BEGIN/DATA/END, and once the stub "runs": ERASE_FLASH, ERASE_REGION,
READ_FLASH, RUN_USER_CODE. Bytes in, bytes out: `feed` returns what the chip writes.

No code is executed. MEM_END with an entry point is taken as "the flasher stub
starts": the loader answers the MEM_END, says "OHAI" and switches to the stub's reply
format (2 status bytes instead of the ROM's 4, raw MD5, SYNC value 0). Commands an
ESP32 ROM does not know (GET_SECURITY_INFO, the stub-only ones in ROM mode) get the
ROM's "invalid message" status (1, 0x05), which esptool turns into
UnsupportedCommandError as on a real chip.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import Final

from hil.virtual_board.errors import VirtualBoardError
from hil.virtual_board.flash_image import FlashImage
from hil.virtual_board.registers import Esp32Registers
from hil.virtual_board.slip import SlipDecoder, slip_encode

# Opcodes (esptool ESPLoader.ESP_CMDS).
FLASH_BEGIN: Final = 0x02
FLASH_DATA: Final = 0x03
FLASH_END: Final = 0x04
MEM_BEGIN: Final = 0x05
MEM_END: Final = 0x06
MEM_DATA: Final = 0x07
SYNC: Final = 0x08
WRITE_REG: Final = 0x09
READ_REG: Final = 0x0A
SPI_SET_PARAMS: Final = 0x0B
SPI_ATTACH: Final = 0x0D
READ_FLASH_SLOW: Final = 0x0E
CHANGE_BAUDRATE: Final = 0x0F
FLASH_DEFL_BEGIN: Final = 0x10
FLASH_DEFL_DATA: Final = 0x11
FLASH_DEFL_END: Final = 0x12
SPI_FLASH_MD5: Final = 0x13
ERASE_FLASH: Final = 0xD0
ERASE_REGION: Final = 0xD1
READ_FLASH: Final = 0xD2
RUN_USER_CODE: Final = 0xD3
STUB_ONLY: Final = frozenset({ERASE_FLASH, ERASE_REGION, READ_FLASH, RUN_USER_CODE})

# Error codes of the status bytes (esptool docs, "Serial Protocol").
ERR_INVALID_MESSAGE: Final = 0x05
ERR_FAILED: Final = 0x06
ERR_BAD_CHECKSUM: Final = 0x07
ERR_FLASH_WRITE: Final = 0x08
ERR_FLASH_READ: Final = 0x09
ERR_DEFLATE: Final = 0x0B

SYNC_PAYLOAD: Final = b"\x07\x07\x12\x20" + 32 * b"\x55"
ROM_SYNC_VALUE: Final = 0x20120707
CHECKSUM_SEED: Final = 0xEF
READ_FLASH_SLOW_BLOCK: Final = 64
OHAI: Final = b"OHAI"


class CommandError(Exception):
    """A command refused with an error code (sent back as the status bytes)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Download:
    """An open FLASH_BEGIN / FLASH_DEFL_BEGIN / MEM_BEGIN session."""

    kind: str  # "flash", "defl" or "mem"
    offset: int
    block_size: int
    next_seq: int = 0
    written: int = 0
    inflate: zlib._Decompress | None = None


def checksum(data: bytes) -> int:
    state = CHECKSUM_SEED
    for byte in data:
        state ^= byte
    return state


class RomLoader:
    """One download-mode session of the chip (a fresh one per reset)."""

    def __init__(self, flash: FlashImage, registers: Esp32Registers) -> None:
        self.flash = flash
        self.registers = registers
        self.stub = False
        self.exit_requested = False  # FLASH_END/RUN_USER_CODE: leave download mode
        self.commands = 0
        self._decoder = SlipDecoder()
        self._session: _Download | None = None
        self._enter_stub = False

    def feed(self, data: bytes) -> bytes:
        """Bytes from the host in, bytes the chip sends back out."""
        out = bytearray()
        for packet in self._decoder.feed(data):
            if self.exit_requested:
                break  # the chip left the loader; the rest goes nowhere
            out += self.handle_packet(packet)
        return bytes(out)

    def handle_packet(self, packet: bytes) -> bytes:
        if len(packet) < 8 or packet[0] != 0x00:
            return b""  # READ_FLASH acks (4 bytes) and noise: the ROM ignores them
        _direction, op, size, chk = struct.unpack_from("<BBHI", packet)
        data = packet[8 : 8 + size]
        self.commands += 1
        try:
            value, body, extra = self._dispatch(op, data, chk)
        except CommandError as exc:
            return self._reply(op, 0, b"", status=(1, exc.code))
        except VirtualBoardError:
            return self._reply(op, 0, b"", status=(1, ERR_FAILED))
        reply = self._reply(op, value, body) + extra
        if self._enter_stub:
            self._enter_stub, self.stub = False, True
        return reply

    def _reply(
        self, op: int, value: int, body: bytes, *, status: tuple[int, int] = (0, 0)
    ) -> bytes:
        tail = bytes(status) if self.stub else bytes(status) + b"\0\0"
        payload = body + tail
        return slip_encode(struct.pack("<BBHI", 1, op, len(payload), value) + payload)

    def _dispatch(self, op: int, data: bytes, chk: int) -> tuple[int, bytes, bytes]:
        """(value, response data, extra frames after the response) for one command."""
        if op == SYNC:
            return self._sync(data)
        if op in STUB_ONLY and not self.stub:
            raise CommandError(ERR_INVALID_MESSAGE)
        if op == READ_REG:
            (addr,) = _unpack("<I", data)
            return self.registers.read(addr), b"", b""
        if op == WRITE_REG:
            for pos in range(0, len(data) - len(data) % 16, 16):
                addr, value, mask, _delay = struct.unpack_from("<IIII", data, pos)
                self.registers.write(addr, value, mask)
            return 0, b"", b""
        if op in (SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE):
            return 0, b"", b""  # a socket has no baud rate; flash geometry is fixed
        if op in (FLASH_BEGIN, FLASH_DEFL_BEGIN, MEM_BEGIN):
            return self._begin(op, data)
        if op in (FLASH_DATA, FLASH_DEFL_DATA, MEM_DATA):
            return self._data(op, data, chk)
        if op in (FLASH_END, FLASH_DEFL_END):
            return self._flash_end(data)
        if op == MEM_END:
            return self._mem_end(data)
        if op == SPI_FLASH_MD5:
            return self._md5(data)
        return self._stub_or_slow(op, data)

    def _sync(self, data: bytes) -> tuple[int, bytes, bytes]:
        if data[:36] != SYNC_PAYLOAD:
            raise CommandError(ERR_INVALID_MESSAGE)
        value = 0 if self.stub else ROM_SYNC_VALUE
        # The ROM answers a SYNC eight times; esptool reads the seven extra replies.
        extra = b"".join(self._reply(SYNC, value, b"") for _ in range(7))
        return value, b"", extra

    def _begin(self, op: int, data: bytes) -> tuple[int, bytes, bytes]:
        size, _blocks, block_size, offset = _unpack("<IIII", data[:16])
        if op == MEM_BEGIN:
            self._session = _Download("mem", offset, block_size)
            return 0, b"", b""
        if not self.flash.check_range(offset, size):
            raise CommandError(ERR_FLASH_WRITE)
        self.flash.erase(offset, size)  # ROM and stub both end up with an erased region
        inflate = zlib.decompressobj() if op == FLASH_DEFL_BEGIN else None
        kind = "defl" if op == FLASH_DEFL_BEGIN else "flash"
        self._session = _Download(kind, offset, block_size, inflate=inflate)
        return 0, b"", b""

    def _data(self, op: int, data: bytes, chk: int) -> tuple[int, bytes, bytes]:
        size, seq, _r1, _r2 = _unpack("<IIII", data[:16])
        block = data[16 : 16 + size]
        expected = {FLASH_DATA: "flash", FLASH_DEFL_DATA: "defl", MEM_DATA: "mem"}[op]
        session = self._session
        if session is None or session.kind != expected or len(block) != size:
            raise CommandError(ERR_INVALID_MESSAGE)
        if checksum(block) != chk & 0xFF:
            raise CommandError(ERR_BAD_CHECKSUM)
        if seq != session.next_seq:
            if seq + 1 == session.next_seq:  # esptool retried a block we already wrote
                return 0, b"", b""
            raise CommandError(ERR_INVALID_MESSAGE)
        session.next_seq += 1
        if session.kind == "mem":
            return 0, b"", b""  # nothing runs here: RAM contents are not kept
        if session.inflate is not None:
            try:
                block = session.inflate.decompress(block)
            except zlib.error:
                raise CommandError(ERR_DEFLATE) from None
            self.flash.write(session.offset + session.written, block)
        else:
            self.flash.write(session.offset + seq * session.block_size, block)
        session.written += len(block)
        return 0, b"", b""

    def _flash_end(self, data: bytes) -> tuple[int, bytes, bytes]:
        (stay_flag,) = _unpack("<I", data[:4]) if len(data) >= 4 else (0,)
        self._session = None
        self.flash.flush()
        if self.stub:
            # Stub: 1 = just finish; 0 = "reboot", which esptool uses to get back to
            # the ROM loader (`--after no-reset` after a stub session).
            self.stub = stay_flag != 0
        else:
            self.exit_requested = True  # ROM: reboot (0) or run user code (1) -> the app
        return 0, b"", b""

    def _mem_end(self, data: bytes) -> tuple[int, bytes, bytes]:
        no_entry, entry = _unpack("<II", data[:8])
        self._session = None
        if no_entry or entry == 0:
            return 0, b"", b""
        # esptool uploaded its flasher stub and jumps to it: answer (ROM format), greet.
        self._enter_stub = True
        return 0, b"", slip_encode(OHAI)

    def _md5(self, data: bytes) -> tuple[int, bytes, bytes]:
        addr, size, _r1, _r2 = _unpack("<IIII", data[:16])
        if not self.flash.check_range(addr, size):
            raise CommandError(ERR_FLASH_READ)
        digest = hashlib.md5(self.flash.read(addr, size), usedforsecurity=False)
        body = digest.digest() if self.stub else digest.hexdigest().encode()
        return 0, body, b""

    def _stub_or_slow(self, op: int, data: bytes) -> tuple[int, bytes, bytes]:
        if op == READ_FLASH_SLOW and not self.stub:
            offset, length = _unpack("<II", data[:8])
            length = min(length, READ_FLASH_SLOW_BLOCK)
            if not self.flash.check_range(offset, length):
                raise CommandError(ERR_FLASH_READ)
            block = self.flash.read(offset, length).ljust(READ_FLASH_SLOW_BLOCK, b"\xff")
            return 0, block, b""
        if op == ERASE_FLASH:
            self.flash.erase(0, self.flash.size)
            return 0, b"", b""
        if op == ERASE_REGION:
            offset, size = _unpack("<II", data[:8])
            if not self.flash.check_range(offset, size):
                raise CommandError(ERR_FLASH_WRITE)
            self.flash.erase(offset, size)
            return 0, b"", b""
        if op == READ_FLASH:
            return self._read_flash(data)
        if op == RUN_USER_CODE:
            self.exit_requested = True
            return 0, b"", b""
        raise CommandError(ERR_INVALID_MESSAGE)  # GET_SECURITY_INFO & co.: not an ESP32 ROM

    def _read_flash(self, data: bytes) -> tuple[int, bytes, bytes]:
        """Stub READ_FLASH: data packets, then the raw MD5 (acks are not waited for)."""
        offset, length, packet_size, _inflight = _unpack("<IIII", data[:16])
        if not self.flash.check_range(offset, length) or packet_size == 0:
            raise CommandError(ERR_FLASH_READ)
        content = self.flash.read(offset, length)
        frames = b"".join(
            slip_encode(content[pos : pos + packet_size]) for pos in range(0, length, packet_size)
        )
        digest = hashlib.md5(content, usedforsecurity=False).digest()
        return 0, b"", frames + slip_encode(digest)


def _unpack(fmt: str, data: bytes) -> tuple[int, ...]:
    if len(data) < struct.calcsize(fmt):
        raise CommandError(ERR_INVALID_MESSAGE)
    return struct.unpack_from(fmt, data)
