"""SLIP framing of the ESP ROM serial protocol (RFC 1055, as esptool's `slip_reader`).

Owns turning a byte stream into packets and back. Bytes outside a frame are returned
to the caller as "noise" instead of being dropped silently, because the board decides
between download and run mode on whether a client's first bytes are a SLIP frame.
"""

from __future__ import annotations

from typing import Final

END: Final = 0xC0
ESC: Final = 0xDB
ESC_END: Final = 0xDC
ESC_ESC: Final = 0xDD
MAX_PACKET: Final = 0x10000  # far above esptool's largest block (0x4000 + header)


def slip_encode(packet: bytes) -> bytes:
    """One packet framed as esptool writes it: C0, escaped bytes, C0."""
    body = packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


class SlipDecoder:
    """Incremental decoder: `feed` returns the complete packets found so far."""

    def __init__(self) -> None:
        self._packet: bytearray | None = None
        self._escape = False
        self.noise = 0  # bytes seen outside any frame (a console line, garbage)

    def feed(self, data: bytes) -> list[bytes]:
        packets: list[bytes] = []
        for byte in data:
            self._feed_byte(byte, packets)
        return packets

    def _feed_byte(self, byte: int, packets: list[bytes]) -> None:
        if self._packet is None:
            if byte == END:
                self._packet = bytearray()
            else:
                self.noise += 1
            return
        if self._escape:
            self._escape = False
            # A bad escape is kept as-is; the command checksum/length checks reject it.
            self._packet.append({ESC_END: END, ESC_ESC: ESC}.get(byte, byte))
        elif byte == ESC:
            self._escape = True
        elif byte == END:
            if self._packet:  # C0 C0: an empty frame is the start of the next one
                packets.append(bytes(self._packet))
                self._packet = None
        else:
            self._packet.append(byte)
        if self._packet is not None and len(self._packet) > MAX_PACKET:
            self._packet = None  # runaway frame: resynchronise on the next C0
