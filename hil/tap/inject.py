"""Frames of the harness's own on the device's live WebSocket (the `ws_send` step).

A device sends only well-formed messages, so how the server answers an unknown type,
invalid JSON or an oversize frame (SPEC §6.3, §6.6) goes untested. The tap can put one
frame into the device -> server byte stream of a relayed connection: masked as a client's
must be (RFC 6455 §5.3, wsproto builds it), never compressed (RSV1 clear, so a
permessage-deflate context the two sides share is untouched), and only between two of
the device's messages: the relay holds it until every byte the device sent has ended a
whole message (hil.tap.websocket tracks frame boundaries) and writes it then, so it never
cuts into a device frame or a fragmented message. The device's own decoder never sees it;
the frame gets a `ws` record of its own marked `probe: <id>`, as `http` probes mark their
requests with `X-Teddy-Probe`, so device-side rules (hil.rules.invariants) skip it and
only the server's answer is judged.
"""

from __future__ import annotations

import asyncio
import os
import struct
from dataclasses import dataclass, field
from typing import Final

from wsproto.frame_protocol import Opcode, XorMaskerSimple

from hil.tap.errors import TapError
from hil.tap.websocket import MEDIUM_LEN, SHORT_LEN

OPCODES: Final = {"text": Opcode.TEXT, "binary": Opcode.BINARY}


def client_frame(opcode: Opcode, payload: bytes) -> bytes:
    """One whole masked frame as a client sends it (RFC 6455 §5.2), of any size and with
    the payload as given (an oversize frame, invalid UTF-8 in a text frame: probes too)."""
    size = len(payload)
    head = bytearray([0x80 | int(opcode)])  # FIN, no RSV bits
    if size <= SHORT_LEN:
        head.append(0x80 | size)
    elif size <= MEDIUM_LEN:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    mask = os.urandom(4)
    return bytes(head + mask + XorMaskerSimple(mask).process(bytearray(payload)))


@dataclass
class Injection:
    """One frame waiting for its place in the device's stream; `sent` resolves to the conn."""

    opcode: Opcode
    payload: bytes
    probe_id: str
    sent: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    waiting_for: str = "the device's WebSocket to be decoded"

    def __post_init__(self) -> None:
        # A step that gave up (its timeout) fails the injection and no longer awaits it.
        self.sent.add_done_callback(lambda done: done.cancelled() or done.exception())

    @property
    def frame(self) -> bytes:
        return client_frame(self.opcode, self.payload)

    def fail(self, why: str) -> None:
        if not self.sent.done():
            self.sent.set_exception(TapError(why))
