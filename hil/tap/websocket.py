"""WebSocket frames as the tap sees them: one wsproto `FrameProtocol` per direction.

After a 101 (hil.tap.http) each direction's bytes go to a frame decoder: device frames
are masked (`client=False` reads them, as the server does), server frames are not
(`client=True`). wsproto checks framing, masking, UTF-8 of text, close codes and control
frame rules (RFC 6455), reassembles fragmented messages and, when the handshake agreed on
`permessage-deflate` (RFC 7692), inflates them with the parameters of the server's
`Sec-WebSocket-Extensions` answer, so a record shows the message the application sees.

What the frames looked like *as sent* comes from `_FrameSizes`, a wsproto extension
placed first in the chain: it sees every frame header before inflation, so `frame_bytes`
(header + payload per frame) and `compressed` are the wire's, and `size` is the message's
(the JSON text as UTF-8 bytes; SPEC §7.3 limits that). One record per data message and
one per control frame; a control frame between fragments is recorded when it arrives.
A frame wsproto refuses (`ParseFailed`) gives an `error` record, and that direction is
forwarded undecoded from then on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final

from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.frame_protocol import Frame, FrameDecoder, FrameProtocol, Opcode, ParseFailed, RsvBits

from hil.tap.http import Upgrade, header_value
from hil.tap.recorder import Recorder
from hil.tap.records import DOWN, ERROR, UP, WS
from hil.tap.summary import HEAD_BYTES, KEEP_BYTES, cut_text, parse_json

SHORT_LEN: Final = 125  # RFC 6455 §5.2: longer payloads take 2 or 8 extra length bytes
MEDIUM_LEN: Final = 0xFFFF
MASK_BYTES: Final = 4


def frame_header_bytes(payload_len: int, *, masked: bool) -> int:
    """The size of a frame's header on the wire (RFC 6455 §5.2)."""
    extra = 0 if payload_len <= SHORT_LEN else 2 if payload_len <= MEDIUM_LEN else 8
    return 2 + extra + (MASK_BYTES if masked else 0)


class _FrameSizes(Extension):
    """Not a negotiated extension: it watches each frame header before any other does."""

    name = "teddy-tap-frame-sizes"

    def __init__(self, *, masked: bool) -> None:
        self.masked = masked
        self.frame_bytes = 0  # of the frame being decoded
        self.rsv1 = False
        # Where a frame of the harness's own may go in (hil.tap.inject): wire bytes of
        # the frames decoded to their end, and whether a fragmented message is open.
        self.done_bytes = 0
        self.in_message = False
        self._data_frame = False

    def enabled(self) -> bool:
        return True

    def offer(self) -> bool | str:
        return False

    def frame_inbound_header(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, payload_length: int
    ) -> RsvBits:
        self.frame_bytes = payload_length + frame_header_bytes(payload_length, masked=self.masked)
        self.rsv1 = rsv.rsv1
        self._data_frame = not opcode.iscontrol()
        return RsvBits(False, False, False)

    def frame_inbound_complete(self, proto: FrameDecoder | FrameProtocol, fin: bool) -> None:
        self.done_bytes += self.frame_bytes
        if self._data_frame:  # control frames may come between fragments (RFC 6455 §5.4)
            self.in_message = not fin


@dataclass
class _Message:
    opcode: Opcode
    t: float
    compressed: bool
    frame_bytes: list[int] = field(default_factory=list)
    size: int = 0
    kept: bytearray = field(default_factory=bytearray)
    hash: hashlib._Hash = field(default_factory=hashlib.sha256)

    def add(self, data: bytes) -> None:
        self.size += len(data)
        self.hash.update(data)
        room = KEEP_BYTES - len(self.kept)
        if room > 0:
            self.kept += data[:room]


def _payload_bytes(payload: bytes | str | tuple[int, str]) -> bytes:
    """A data or ping/pong frame's payload as bytes (wsproto decodes text frames to str)."""
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, tuple):
        return b""
    return bytes(payload)


def _deflate(response_headers: list[list[str]]) -> PerMessageDeflate | None:
    """The permessage-deflate the server agreed to, configured from its answer."""
    agreed = header_value(response_headers, "sec-websocket-extensions") or ""
    for offer in agreed.split(","):
        if offer.split(";", 1)[0].strip() == PerMessageDeflate.name:
            ext = PerMessageDeflate()
            ext.finalize(offer.strip())
            return ext
    return None


class _Direction:
    """The frames one side sends."""

    def __init__(self, rec: Recorder, direction: str, response_headers: list[list[str]]) -> None:
        self._rec = rec
        self.direction = direction
        self._sizes = _FrameSizes(masked=direction == UP)
        extensions: list[Extension] = [self._sizes]
        deflate = _deflate(response_headers)
        if deflate is not None:
            extensions.append(deflate)
        # The device's frames are read as the server reads them (client=False), and back.
        self._frames = FrameProtocol(client=direction == DOWN, extensions=extensions)
        self._message: _Message | None = None
        self._control: _Message | None = None
        self.broken = False
        self.closed = False  # this side sent a close frame
        self.fed = 0

    def between_messages(self) -> str | None:
        """None when every byte this side sent ended a whole message, else why not."""
        if self.broken or self.closed:
            return "its WebSocket already " + ("broke" if self.broken else "sent a close frame")
        if self._sizes.done_bytes != self.fed or self._sizes.in_message:
            return "a message is on its way"
        return None

    def feed(self, data: bytes) -> None:
        if self.broken:
            return
        self.fed += len(data)
        try:
            self._frames.receive_bytes(data)
            for frame in self._frames.received_frames():
                self._frame(frame)
        except ParseFailed as exc:
            self.broken = True
            who = "device" if self.direction == UP else "server"
            members = {"error": f"WebSocket from the {who}: {exc} (code {exc.code})"}
            self._rec.emit(ERROR, self.direction, members)

    def _frame(self, frame: Frame) -> None:
        if frame.opcode.iscontrol():
            self._control_frame(frame)
            return
        message = self._message
        if message is None:
            message = _Message(frame.opcode, self._rec.now(), compressed=self._sizes.rsv1)
            self._message = message
        message.add(_payload_bytes(frame.payload))
        if frame.frame_finished:
            message.frame_bytes.append(self._sizes.frame_bytes)
        if frame.message_finished:
            self._message = None
            members, parsed = _text_members(message)
            self._emit(message, members)
            if self._rec.audio is not None and isinstance(parsed, dict):
                self._rec.audio(self.direction, parsed, message.t)  # after it was forwarded

    def _control_frame(self, frame: Frame) -> None:
        if self._control is None:
            self._control = _Message(frame.opcode, self._rec.now(), compressed=False)
        control = self._control
        payload = frame.payload
        if isinstance(payload, tuple):  # a close frame: (code, reason)
            self.closed = True
            code, reason = payload
            members: dict[str, object] = {"code": int(code), "reason": reason}
            control.add(b"" if int(code) == 1005 else b"xx" + reason.encode("utf-8"))
        else:
            data = _payload_bytes(payload)
            control.add(data)
            members = {"payload_hex": data.hex()[: HEAD_BYTES * 2]}
        if not frame.frame_finished:
            return
        self._control = None
        control.frame_bytes.append(self._sizes.frame_bytes)
        self._emit(control, members)

    def _emit(self, message: _Message, members: dict[str, object]) -> None:
        self._rec.emit(WS, self.direction, _record(message, members, self._rec.now()), t=message.t)


def _data_members(message: _Message) -> dict[str, object]:
    return _text_members(message)[0]


def _text_members(message: _Message) -> tuple[dict[str, object], object]:
    """A data message's record members, and its JSON object as parsed (None if it is none)."""
    if message.opcode is not Opcode.TEXT:
        return {"head_hex": bytes(message.kept[:HEAD_BYTES]).hex()}, None
    text = bytes(message.kept).decode("utf-8", errors="replace")
    if message.size > KEEP_BYTES:
        members: dict[str, object] = {
            "text": cut_text(text),
            "json_error": f"not parsed: over {KEEP_BYTES} bytes",
        }
        return members, None
    parsed = parse_json(text)
    if parsed.error is not None:
        return {"text": cut_text(text), "json_error": parsed.error}, None
    if not isinstance(parsed.value, dict):
        return {"text": cut_text(text), "json_error": "not a JSON object"}, None
    kind = parsed.value.get("type")
    return {"type": kind if isinstance(kind, str) else None, "fields": parsed.value}, parsed.raw


def _record(message: _Message, members: dict[str, object], t_end: float) -> dict[str, object]:
    return {
        "opcode": message.opcode.name.lower(),
        "size": message.size,
        "frames": len(message.frame_bytes),
        "frame_bytes": message.frame_bytes,
        "compressed": message.compressed,
        "sha256": message.hash.hexdigest(),
        **members,
        "t_end": round(t_end, 6),
    }


def sent_record(opcode: Opcode, payload: bytes, *, wire_bytes: int, t: float) -> dict[str, object]:
    """The `ws` record members of one whole frame the tap itself sent (hil.tap.inject)."""
    message = _Message(opcode, t, compressed=False, frame_bytes=[wire_bytes])
    message.add(payload)
    members = _data_members(message) if not opcode.iscontrol() else {}
    return _record(message, members, t)


class WebSocketObserver:
    """Decodes both directions of an upgraded connection into `ws` records."""

    def __init__(self, rec: Recorder, upgrade: Upgrade) -> None:
        headers = upgrade.response_headers
        self._sides = {UP: _Direction(rec, UP, headers), DOWN: _Direction(rec, DOWN, headers)}
        self.feed(UP, upgrade.up_rest)
        self.feed(DOWN, upgrade.down_rest)

    def feed(self, direction: str, data: bytes) -> None:
        if data:
            self._sides[direction].feed(data)

    def up_between_messages(self) -> str | None:
        """None when a frame may go to the server now without cutting into the device's
        own (its last message is whole, nobody closed), else why not."""
        down = self._sides[DOWN]
        if down.closed or down.broken:
            return "the server already " + ("closed it" if down.closed else "broke its side")
        why = self._sides[UP].between_messages()
        return None if why is None else f"the device: {why}"
