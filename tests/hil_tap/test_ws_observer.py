"""The tap's WebSocket decoder (hil.tap.websocket) fed frames that wsproto wrote."""

from __future__ import annotations

import base64
import json

import pytest
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

from hil.tap.http import Upgrade
from hil.tap.records import DOWN, UP
from hil.tap.websocket import WebSocketObserver, frame_header_bytes
from tests.hil_tap.helpers import Collected, dig

pytestmark = pytest.mark.unit

DEFLATE = "permessage-deflate; client_max_window_bits=15"


def observer(extensions: str | None = None) -> tuple[Collected, WebSocketObserver]:
    got = Collected()
    headers = [["Upgrade", "websocket"]]
    if extensions:
        headers.append(["Sec-WebSocket-Extensions", extensions])
    return got, WebSocketObserver(got.rec, Upgrade(b"", b"", [], headers))


def device(*, deflate: bool = False) -> FrameProtocol:
    """Writes frames as the device does (masked)."""
    exts: list[Extension] = []
    if deflate:
        ext = PerMessageDeflate()
        ext.finalize(DEFLATE)
        exts.append(ext)
    return FrameProtocol(client=True, extensions=exts)


def server() -> FrameProtocol:
    return FrameProtocol(client=False, extensions=[])


def test_a_fragmented_text_message_is_one_record_with_each_frame_size() -> None:
    got, ws = observer()
    out = device()
    text = json.dumps({"type": "text_message", "text": "hello there"})
    frames = [out.send_data(text[:10], fin=False), out.send_data(text[10:], fin=True)]
    ws.feed(UP, bytes(frames[0]))
    ws.feed(UP, bytes(out.ping(b"p1")))  # a control frame between the fragments
    for byte in bytes(frames[1]):  # one byte at a time
        ws.feed(UP, bytes([byte]))
    ping, message = got.records
    assert ping["opcode"] == "ping" and ping["payload_hex"] == b"p1".hex()
    assert message["opcode"] == "text" and message["type"] == "text_message"
    assert message["frames"] == 2
    assert message["frame_bytes"] == [len(frames[0]), len(frames[1])]
    assert message["size"] == len(text)
    assert message["fields"] == {"type": "text_message", "text": "hello there"}


def test_compressed_frames_are_inflated_and_their_wire_size_kept() -> None:
    got, ws = observer(DEFLATE)
    out = device(deflate=True)
    pcm = bytes(4096)
    text = json.dumps({"type": "audio_chunk", "audio_data": base64.b64encode(pcm).decode()})
    frame = bytes(out.send_data(text, fin=True))
    ws.feed(UP, frame)
    (record,) = got.records
    assert record["compressed"] is True
    assert record["frame_bytes"] == [len(frame)] and len(frame) < 200  # zeros deflate well
    assert record["size"] == len(text)
    assert dig(record, "fields", "audio_data", "size") == 4096


def test_close_codes_reasons_pongs_and_binary() -> None:
    got, ws = observer()
    down = server()
    ws.feed(DOWN, bytes(down.send_data(b"\x00\x01binary", fin=True)))
    ws.feed(DOWN, bytes(down.pong(b"")))
    ws.feed(DOWN, bytes(down.close(4001, "going away now")))
    binary, pong, close = got.records
    assert binary["opcode"] == "binary" and binary["head_hex"] == "0001" + b"binary".hex()
    assert pong["opcode"] == "pong" and pong["size"] == 0
    assert close["code"] == 4001 and close["reason"] == "going away now"
    assert close["frame_bytes"] == [frame_header_bytes(16, masked=False) + 16]


def test_non_json_text_is_recorded_with_why() -> None:
    got, ws = observer()
    ws.feed(DOWN, bytes(server().send_data("{not json", fin=True)))
    (record,) = got.records
    assert record["text"] == "{not json" and "json_error" in record


@pytest.mark.parametrize(
    ("direction", "frame", "why"),
    [
        (UP, bytes(server().send_data("x", fin=True)), "unmasked"),  # the device must mask
        (DOWN, b"\x8f\x00", "opcode"),
        (DOWN, b"\xc1\x01x", "Reserved bit"),  # RSV1 without permessage-deflate
    ],
)
def test_a_bad_frame_gives_an_error_and_that_direction_is_left_alone(
    direction: str, frame: bytes, why: str
) -> None:
    got, ws = observer()
    ws.feed(direction, frame)
    ws.feed(direction, bytes(server().send_data("later", fin=True)))
    (error,) = got.records
    assert error["kind"] == "error" and why in str(error["error"])
    other = DOWN if direction == UP else UP
    writer = server() if other == DOWN else device()
    ws.feed(other, bytes(writer.send_data("fine", fin=True)))
    assert got.records[-1]["opcode"] == Opcode.TEXT.name.lower()
