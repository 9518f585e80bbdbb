"""What a wire record keeps of a body or a message: bounded, with its size and digest.

A wire log must stay readable and small while a run streams megabytes of firmware and
minutes of audio, so no payload is kept whole: a body is kept as its size, its SHA-256
and at most `KEEP_BYTES` of its start (`BodySummary`); text is cut at `TEXT_CHARS`
characters; a parsed JSON document keeps its structure, but every `audio_data` member
(SPEC §6.2, §6.4: base64 PCM) becomes `{"base64_chars", "size", "sha256"}` of the
decoded audio, and any other string longer than `TEXT_CHARS` is cut.

The digests are of the bytes as they crossed the wire (after WebSocket decompression,
which is the message the application sees), so two records with one digest carried the
same payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Final

KEEP_BYTES: Final = 64 * 1024  # JSON bodies and frames are parsed up to this size
TEXT_CHARS: Final = 2000  # longer strings are cut in the record
HEAD_BYTES: Final = 16  # binary payloads show their first bytes in hex
AUDIO_FIELDS: Final = frozenset({"audio_data"})  # base64 PCM members (SPEC §6.2, §6.4)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cut_text(text: str, limit: int = TEXT_CHARS) -> str:
    """`text`, or its first `limit` characters and how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...[{len(text) - limit} more characters]"


def summarise_audio(value: object) -> object:
    """A base64 audio member as its size and the SHA-256 of the decoded bytes."""
    if not isinstance(value, str):
        return value
    try:
        pcm = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return {"base64_chars": len(value), "invalid_base64": True, "head": value[:40]}
    return {"base64_chars": len(value), "size": len(pcm), "sha256": digest(pcm)}


def summarise_json(value: object, *, key: str | None = None) -> object:
    """A parsed JSON value with audio members summarised and long strings cut."""
    if key in AUDIO_FIELDS:
        return summarise_audio(value)
    if isinstance(value, dict):
        return {str(k): summarise_json(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [summarise_json(item) for item in value]
    if isinstance(value, str):
        return cut_text(value)
    return value


@dataclass(frozen=True)
class Parsed:
    """A JSON text parsed: the summarised value (and the whole one), or why it is not JSON."""

    value: object = None
    error: str | None = None
    raw: object = None  # as parsed, audio included (hil.tap.wire_audio reads it)


def parse_json(text: str) -> Parsed:
    try:
        raw = json.loads(text)
        return Parsed(value=summarise_json(raw), raw=raw)
    except ValueError as exc:  # json.JSONDecodeError and RecursionError's cousin
        return Parsed(error=str(exc))
    except RecursionError:
        return Parsed(error="nested too deeply")


def is_json_type(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def is_text_type(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or is_json_type(content_type) or base.endswith("+xml")


@dataclass
class BodySummary:
    """A body seen piece by piece: counted and hashed as it streams, its start kept."""

    content_type: str = ""
    size: int = 0
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    _kept: bytearray = field(default_factory=bytearray)

    def add(self, data: bytes) -> None:
        self.size += len(data)
        self._hash.update(data)
        room = KEEP_BYTES - len(self._kept)
        if room > 0:
            self._kept += data[:room]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"size": self.size, "sha256": self._hash.hexdigest()}
        if self.size == 0:
            return out
        whole = self.size <= KEEP_BYTES
        kept = bytes(self._kept)
        if is_text_type(self.content_type):
            text = kept.decode("utf-8", errors="replace")
            out["text"] = cut_text(text)
            if is_json_type(self.content_type) and whole:
                parsed = parse_json(text)
                if parsed.error is None:
                    out["json"] = parsed.value
                else:
                    out["json_error"] = parsed.error
        else:
            out["head_hex"] = kept[:HEAD_BYTES].hex()
        if not whole:
            out["kept"] = len(kept)
        return out
