"""Typed WebSocket chat messages and their strict JSON codec.

Owns SPEC §6.3 (device -> server) and §6.4 (server -> device). Parsers map every
failure to the exact SPEC §6.3 error code the server sends back, so server,
emulator and C core agree on what is refused and why. Unknown extra fields are
tolerated (forward compatible); unknown message types are not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final, TypeVar

from protocol import constants as c
from protocol._fields import FieldReader, compact_dumps, is_int, strict_loads
from protocol._pcm import b64decode_pcm, b64encode_pcm
from protocol.errors import MessageError, ValidationError

SESSION_ID_PATTERN: Final = c.ID_PATTERN
ERROR_CODE_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]*")
_T = TypeVar("_T")
SYSTEM_DATA_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "connection_established": ("session_id", "message", "server_time"),
    "audio_start_ack": ("audio_session_id", "status"),
    "heartbeat_response": ("session_status",),
}


def _session_id(r: FieldReader, key: str = "audio_session_id") -> str:
    return r.string(key, min_len=1, max_len=c.AUDIO_SESSION_ID_MAX_LEN, pattern=SESSION_ID_PATTERN)


def _optional_session_id(r: FieldReader) -> str | None:
    return r.optional_string(
        "audio_session_id",
        min_len=1,
        max_len=c.AUDIO_SESSION_ID_MAX_LEN,
        pattern=SESSION_ID_PATTERN,
    )


def _with_session(body: dict[str, object], session_id: str | None) -> dict[str, object]:
    if session_id is not None:
        body["audio_session_id"] = session_id
    return body


# --- device -> server (SPEC §6.3) -----------------------------------------------------


@dataclass(frozen=True)
class AudioStart:
    """Opens an utterance; the server answers `system{audio_start_ack}`."""

    TYPE: ClassVar[str] = "audio_start"
    audio_session_id: str | None = None

    @classmethod
    def read(cls, r: FieldReader) -> AudioStart:
        return cls(_optional_session_id(r))

    def to_json(self) -> dict[str, object]:
        return _with_session({"type": self.TYPE}, self.audio_session_id)


@dataclass(frozen=True)
class AudioChunk:
    """One uplink PCM chunk; `pcm` is the decoded `audio_data`."""

    TYPE: ClassVar[str] = "audio_chunk"
    pcm: bytes
    chunk_id: str | int
    audio_session_id: str | None = None
    is_final: bool = False

    @classmethod
    def read(cls, r: FieldReader) -> AudioChunk:
        audio_data = r.string("audio_data")
        chunk_id: str | int
        if is_int(r.obj.get("chunk_id")):
            chunk_id = r.integer("chunk_id", minimum=0)
        else:
            chunk_id = r.string("chunk_id", min_len=1, max_len=c.CHUNK_ID_MAX_LEN)
        session_id = _optional_session_id(r)
        is_final = r.boolean("is_final", default=False)
        r.raise_if_errors()  # field errors win over audio errors: invalid_message first
        return cls(b64decode_pcm(audio_data), chunk_id, session_id, is_final)

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": self.TYPE,
            "audio_data": b64encode_pcm(self.pcm),
            "chunk_id": self.chunk_id,
        }
        _with_session(body, self.audio_session_id)
        body["is_final"] = self.is_final
        return body


@dataclass(frozen=True)
class AudioEnd:
    """Ends an utterance (ignored after an `is_final` chunk of the same id, SPEC §6.5)."""

    TYPE: ClassVar[str] = "audio_end"
    audio_session_id: str

    @classmethod
    def read(cls, r: FieldReader) -> AudioEnd:
        return cls(_session_id(r))

    def to_json(self) -> dict[str, object]:
        return {"type": self.TYPE, "audio_session_id": self.audio_session_id}


@dataclass(frozen=True)
class Heartbeat:
    """Application keep-alive; any fields are allowed and kept in `fields`."""

    TYPE: ClassVar[str] = "heartbeat"
    fields: dict[str, object] = field(default_factory=dict)

    @classmethod
    def read(cls, r: FieldReader) -> Heartbeat:
        return cls({k: v for k, v in r.obj.items() if k != "type"})

    def to_json(self) -> dict[str, object]:
        return {"type": self.TYPE, **{k: v for k, v in self.fields.items() if k != "type"}}


@dataclass(frozen=True)
class TextMessage:
    """A typed question, 1..1000 characters (SPEC §6.3)."""

    TYPE: ClassVar[str] = "text_message"
    text: str

    @classmethod
    def read(cls, r: FieldReader) -> TextMessage:
        raw = r.obj.get("text")
        if isinstance(raw, str) and not raw.strip():
            raise MessageError("empty_text", "text is empty", field="text")
        return cls(r.string("text", max_len=c.MAX_TEXT_MESSAGE_CHARS))

    def to_json(self) -> dict[str, object]:
        return {"type": self.TYPE, "text": self.text}


DeviceMessage = AudioStart | AudioChunk | AudioEnd | Heartbeat | TextMessage

# --- server -> device (SPEC §6.4) -----------------------------------------------------


@dataclass(frozen=True)
class SystemMessage:
    """`system` envelope; `data_type` is `data.type`, `data` holds the other fields."""

    TYPE: ClassVar[str] = "system"
    data_type: str
    data: dict[str, object] = field(default_factory=dict)

    @classmethod
    def connection_established(
        cls, *, session_id: str, message: str, server_time: str
    ) -> SystemMessage:
        fields = {"session_id": session_id, "message": message, "server_time": server_time}
        return cls("connection_established", dict(fields))

    @classmethod
    def audio_start_ack(cls, *, audio_session_id: str) -> SystemMessage:
        return cls("audio_start_ack", {"audio_session_id": audio_session_id, "status": "ready"})

    @classmethod
    def heartbeat_response(cls) -> SystemMessage:
        return cls("heartbeat_response", {"session_status": "active"})

    @classmethod
    def read(cls, r: FieldReader) -> SystemMessage:
        data = r.nested("data")
        if data is None:
            return cls("", {})
        data_type = data.string("type", min_len=1, pattern=ERROR_CODE_PATTERN)
        for key in SYSTEM_DATA_FIELDS.get(data_type, ()):  # unknown data types pass through
            data.string(key)
        return cls(data_type, {k: v for k, v in data.obj.items() if k != "type"})

    def to_json(self) -> dict[str, object]:
        return {"type": self.TYPE, "data": {"type": self.data_type, **self.data}}


@dataclass(frozen=True)
class TextResponse:
    """A text reply; `transcript` is what the server heard (SPEC §6.5)."""

    TYPE: ClassVar[str] = "text_response"
    text: str
    transcript: str | None = None
    audio_session_id: str | None = None

    @classmethod
    def read(cls, r: FieldReader) -> TextResponse:
        return cls(r.string("text"), r.optional_string("transcript"), _optional_session_id(r))

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"type": self.TYPE, "text": self.text}
        if self.transcript is not None:
            body["transcript"] = self.transcript
        return _with_session(body, self.audio_session_id)


@dataclass(frozen=True)
class AudioResponse:
    """One downlink audio frame (SPEC §7.3); `text` only on seq 0."""

    TYPE: ClassVar[str] = "audio_response"
    audio_session_id: str
    seq: int
    pcm: bytes
    is_final: bool
    text: str | None = None

    @classmethod
    def read(cls, r: FieldReader) -> AudioResponse:
        session_id = _session_id(r)
        seq = r.integer("seq", minimum=0)
        audio_data = r.string("audio_data")
        is_final = r.boolean("is_final")
        text = r.optional_string("text")
        if text is not None and seq != 0:
            r.fail("text", "unsupported_value")  # SPEC §7.3: text rides on seq 0 only
        r.equals("format", c.FORMAT)
        r.equals("sample_rate", c.SAMPLE_RATE)
        r.equals("channels", c.CHANNELS)
        r.raise_if_errors()
        return cls(session_id, seq, b64decode_pcm(audio_data), is_final, text)

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": self.TYPE,
            "audio_session_id": self.audio_session_id,
            "seq": self.seq,
            "is_final": self.is_final,
        }
        if self.text is not None:
            body["text"] = self.text
        body.update(format=c.FORMAT, sample_rate=c.SAMPLE_RATE, channels=c.CHANNELS)
        body["audio_data"] = b64encode_pcm(self.pcm)
        return body


@dataclass(frozen=True)
class ErrorMessage:
    """`error{error_code, error_message}`; codes are SPEC §6.3 (others tolerated).

    ``retry_after_ms`` comes only with `busy` (SPEC §6.5 rule 11): when to try again.
    """

    TYPE: ClassVar[str] = "error"
    error_code: str
    error_message: str
    retry_after_ms: int | None = None

    @classmethod
    def read(cls, r: FieldReader) -> ErrorMessage:
        return cls(
            r.string("error_code", pattern=ERROR_CODE_PATTERN),
            r.string("error_message"),
            r.optional_integer("retry_after_ms", minimum=0),
        )

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": self.TYPE,
            "error_code": self.error_code,
            "error_message": self.error_message,
        }
        if self.retry_after_ms is not None:
            body["retry_after_ms"] = self.retry_after_ms
        return body


ServerMessage = SystemMessage | TextResponse | AudioResponse | ErrorMessage
Message = DeviceMessage | ServerMessage

_DEVICE_READERS: Final[dict[str, Callable[[FieldReader], DeviceMessage]]] = {
    cls.TYPE: cls.read for cls in (AudioStart, AudioChunk, AudioEnd, Heartbeat, TextMessage)
}
_SERVER_READERS: Final[dict[str, Callable[[FieldReader], ServerMessage]]] = {
    cls.TYPE: cls.read for cls in (SystemMessage, TextResponse, AudioResponse, ErrorMessage)
}
DEVICE_MESSAGE_TYPES: Final = tuple(_DEVICE_READERS)  # SPEC §6.3, device -> server
SERVER_MESSAGE_TYPES: Final = tuple(_SERVER_READERS)  # SPEC §6.4, server -> device

# --- codec ------------------------------------------------------------------------------


def _load(text: str, max_bytes: int | None) -> Mapping[str, object]:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if max_bytes is not None and size > max_bytes:
        raise MessageError("message_too_large", f"frame is {size} bytes, limit {max_bytes}")
    try:
        obj = strict_loads(text)
    except ValueError as exc:
        raise MessageError("invalid_json", f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise MessageError("invalid_json", "message is not a JSON object")
    return obj


def _message_type(obj: Mapping[str, object], known: Mapping[str, object]) -> str:
    kind = obj.get("type")
    if not isinstance(kind, str):
        reason = "required" if kind is None else "must_be_string"
        raise MessageError("invalid_message", f"type: {reason}", field="type")
    if kind not in known:
        raise MessageError("unknown_message_type", f"unknown message type {kind!r}", field="type")
    return kind


def _read(obj: Mapping[str, object], reader: Callable[[FieldReader], _T], kind: str) -> _T:
    r = FieldReader(obj)
    try:
        message = reader(r)
        r.raise_if_errors()
    except ValidationError as exc:
        first = exc.errors[0]
        text = f"{kind}.{first.field}: {first.reason}"
        raise MessageError("invalid_message", text, field=first.field) from None
    return message


def parse_device_message(
    text: str, *, max_bytes: int | None = c.UPLINK_MAX_FRAME_BYTES
) -> DeviceMessage:
    """Parse one device -> server text frame; raises MessageError (SPEC §6.3)."""
    obj = _load(text, max_bytes)
    kind = _message_type(obj, _DEVICE_READERS)
    return _read(obj, _DEVICE_READERS[kind], kind)


def parse_server_message(
    text: str,
    *,
    max_bytes: int | None = c.DOWNLINK_MAX_FRAME_BYTES - 1,
    require_timestamp: bool = True,
) -> ServerMessage:
    """Parse one server -> device text frame; raises MessageError (SPEC §6.4).

    The default limit enforces SPEC §7.3 (every downlink frame < 8192 bytes) and
    every server message must carry an ISO 8601 `timestamp`.
    """
    obj = _load(text, max_bytes)
    kind = _message_type(obj, _SERVER_READERS)
    if require_timestamp:
        _read(obj, lambda r: r.iso_timestamp("timestamp"), kind)
    return _read(obj, _SERVER_READERS[kind], kind)


def encode_message(msg: Message, *, timestamp: str | None = None) -> str:
    """Compact JSON text frame; `timestamp` (ISO 8601) is appended when given."""
    body = msg.to_json()
    if timestamp is not None:
        body["timestamp"] = timestamp
    return compact_dumps(body)
