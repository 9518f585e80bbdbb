"""What a wire record keeps of bodies and messages (hil.tap.summary) and its one-line form."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from hil.tap import records as r
from hil.tap.summary import KEEP_BYTES, TEXT_CHARS, BodySummary, cut_text, parse_json

pytestmark = pytest.mark.unit


def test_a_json_body_is_parsed_and_its_audio_summarised() -> None:
    pcm = bytes(range(256)) * 16
    text = json.dumps({"type": "audio_chunk", "audio_data": base64.b64encode(pcm).decode()})
    body = BodySummary(content_type="application/json; charset=utf-8")
    body.add(text[:100].encode())
    body.add(text[100:].encode())
    out = body.to_json()
    assert out["size"] == len(text)
    assert out["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert out["json"] == {
        "type": "audio_chunk",
        "audio_data": {
            "base64_chars": len(base64.b64encode(pcm)),
            "size": len(pcm),
            "sha256": hashlib.sha256(pcm).hexdigest(),
        },
    }


def test_a_large_binary_body_keeps_its_size_digest_and_first_bytes_only() -> None:
    body = BodySummary(content_type="application/octet-stream")
    chunk = bytes([0xE9]) + bytes(KEEP_BYTES)
    for _ in range(20):  # 1.3 MB, as a firmware image
        body.add(chunk)
    out = body.to_json()
    assert out["size"] == 20 * len(chunk)
    assert out["sha256"] == hashlib.sha256(chunk * 20).hexdigest()
    assert out["head_hex"] == "e9" + "00" * 15
    assert out["kept"] == KEEP_BYTES
    assert "text" not in out and "json" not in out


def test_bad_json_says_why_and_long_text_is_cut() -> None:
    body = BodySummary(content_type="application/json")
    body.add(b'{"detail": ')
    assert "json_error" in body.to_json()
    assert cut_text("x" * (TEXT_CHARS + 5)).endswith("...[5 more characters]")
    assert parse_json("[1, 2]").value == [1, 2]
    assert parse_json("nope").error is not None


def test_invalid_base64_audio_is_flagged_not_raised() -> None:
    parsed = parse_json(json.dumps({"audio_data": "not base64!"}))
    assert parsed.value == {
        "audio_data": {"base64_chars": 11, "invalid_base64": True, "head": "not base64!"}
    }


@pytest.mark.parametrize(
    ("record", "line"),
    [
        ({"conn": 2, "dir": "up", "kind": "request", "method": "POST", "target": "/a?b=1",
          "body": {"size": 226}}, "#2 up   POST /a?b=1 226 B"),
        ({"conn": 1, "dir": "down", "kind": "response", "method": "GET", "path": "/c",
          "status": 304, "body": {"size": 0}}, "#1 down GET /c -> 304"),
        ({"conn": 1, "dir": "down", "kind": "response", "method": "GET", "path": "/i",
          "status": 206, "body": {"size": 50_000}, "complete": False},
         "#1 down GET /i -> 206 50.0 KB (cut)"),
        ({"conn": 3, "dir": "up", "kind": "ws", "opcode": "text", "type": "audio_chunk",
          "size": 5600}, "#3 up   ws audio_chunk 5.6 KB"),
        ({"conn": 3, "dir": "down", "kind": "ws", "opcode": "binary", "size": 9000, "frames": 3},
         "#3 down ws binary 9.0 KB in 3 frames"),
        ({"conn": 3, "dir": "down", "kind": "ws", "opcode": "close", "code": 1000,
          "reason": "bye"}, "#3 down ws close 1000 'bye'"),
        ({"conn": 4, "dir": "up", "kind": "close", "how": "reset", "bytes_up": 10,
          "bytes_down": 2_000_000}, "#4 up   closed (reset) 10 B up, 2.0 MB down"),
        ({"conn": 5, "dir": "up", "kind": "error", "error": "bad"}, "#5 up   cannot decode: bad"),
    ],
)  # fmt: skip
def test_each_kind_has_a_one_line_form(record: dict[str, object], line: str) -> None:
    assert r.describe(record) == line
