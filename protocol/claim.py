"""Claim and token-refresh bodies: strict parsing and serialisation.

Owns the shapes of SPEC §2.3 (claim request), §2.5 (claim 200 body) and §3.2
(refresh). The server parses requests with `from_json` (every field error at once
-> 422); the emulator parses the 200 bodies with the same strictness so a server
that drifts from the spec fails a test instead of confusing a device.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from protocol import constants as c
from protocol._fields import FieldReader, as_object

WS_URL_PATTERN: Final = re.compile(r"wss?://[^\s/?#]+/\S*")
_NAME_MAX_LEN: Final = 30
_LANGUAGE_PATTERN: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_TOKEN_MAX_LEN: Final = 4096


def canonical_id(identifier: str) -> str:
    """Lookup key of a device or child id: lookups are case-insensitive (SPEC §1.3)."""
    return identifier.lower()


def is_dev_auto_register(device_id: str) -> bool:
    """True when the dev profile auto-registers this id (SPEC §2.4)."""
    return canonical_id(device_id).startswith(c.DEV_AUTO_REGISTER_PREFIX)


@dataclass(frozen=True)
class ClaimRequest:
    """POST /api/v1/pair/claim body (SPEC §2.3); nonce and hmac_hex are lower-case."""

    device_id: str
    child_id: str
    nonce: str
    hmac_hex: str
    firmware_version: str | None = None
    timestamp: int | None = None

    @classmethod
    def from_json(cls, obj: object) -> ClaimRequest:
        """Validate a decoded JSON body; raises ValidationError listing every bad field."""
        r = FieldReader(as_object(obj))
        device_id = r.string(
            "device_id",
            min_len=c.DEVICE_ID_MIN_LEN,
            max_len=c.DEVICE_ID_MAX_LEN,
            pattern=c.ID_PATTERN,
        )
        child_id = r.string(
            "child_id", min_len=c.CHILD_ID_MIN_LEN, max_len=c.CHILD_ID_MAX_LEN, pattern=c.ID_PATTERN
        )
        nonce = r.hex_string("nonce", min_len=c.NONCE_MIN_HEX, max_len=c.NONCE_MAX_HEX)
        hmac_hex = r.hex_string(
            "hmac_hex", min_len=c.HMAC_HEX_LEN, max_len=c.HMAC_HEX_LEN, exact=True
        )
        firmware_version = r.optional_string(
            "firmware_version",
            min_len=1,
            max_len=c.FIRMWARE_VERSION_MAX_LEN,
            pattern=c.FIRMWARE_VERSION_PATTERN,
        )
        timestamp = r.optional_integer("timestamp", minimum=0)
        r.raise_if_errors()
        return cls(device_id, child_id, nonce, hmac_hex, firmware_version, timestamp)

    def to_json(self) -> dict[str, object]:
        """The JSON body a device sends; optional fields are omitted when None."""
        body: dict[str, object] = {
            "device_id": self.device_id,
            "child_id": self.child_id,
            "nonce": self.nonce,
            "hmac_hex": self.hmac_hex,
        }
        if self.firmware_version is not None:
            body["firmware_version"] = self.firmware_version
        if self.timestamp is not None:
            body["timestamp"] = self.timestamp
        return body


@dataclass(frozen=True)
class ChildProfile:
    """`child_profile` of the claim response (SPEC §2.5, §2.7).

    `age` is any integer here on purpose: the 3..13 rule is enforced at the
    WebSocket handshake (SPEC §6.1), where scenarios observe the refusal.
    """

    id: str
    name: str
    age: int
    language: str

    @classmethod
    def read(cls, r: FieldReader) -> ChildProfile:
        return cls(
            id=r.string("id", min_len=1, max_len=c.CHILD_ID_MAX_LEN, pattern=c.ID_PATTERN),
            name=r.string("name", min_len=1, max_len=_NAME_MAX_LEN),
            age=r.integer("age"),
            language=r.string("language", pattern=_LANGUAGE_PATTERN),
        )

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "age": self.age, "language": self.language}


@dataclass(frozen=True)
class AudioConfig:
    """`device_config.audio` (SPEC §2.5, §7.1); only PCM s16le 16 kHz mono exists."""

    chunk_bytes: int = c.UPLINK_CHUNK_BYTES
    format: str = c.FORMAT
    sample_rate: int = c.SAMPLE_RATE
    channels: int = c.CHANNELS

    @classmethod
    def read(cls, r: FieldReader) -> AudioConfig:
        r.equals("format", c.FORMAT)
        r.equals("sample_rate", c.SAMPLE_RATE)
        r.equals("channels", c.CHANNELS)
        chunk_bytes = r.integer("chunk_bytes", minimum=2, maximum=c.DOWNLINK_MAX_FRAME_BYTES)
        if chunk_bytes % 2:
            r.fail("chunk_bytes", "unsupported_value")  # PCM s16 needs whole samples
        return cls(chunk_bytes=chunk_bytes)

    def to_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "chunk_bytes": self.chunk_bytes,
        }


@dataclass(frozen=True)
class DeviceConfig:
    """`device_config` of the claim response (SPEC §2.5)."""

    websocket_url: str
    heartbeat_interval: int = c.HEARTBEAT_INTERVAL_S
    max_message_size: int = c.UPLINK_MAX_FRAME_BYTES
    audio: AudioConfig = AudioConfig()

    @classmethod
    def read(cls, r: FieldReader) -> DeviceConfig:
        url = r.string("websocket_url", min_len=1)
        if url and not WS_URL_PATTERN.fullmatch(url):
            r.fail("websocket_url", "not_url")  # absolute ws[s]:// URL (defect 18)
        heartbeat = r.integer("heartbeat_interval", minimum=1)
        max_size = r.integer("max_message_size", minimum=1)
        audio_reader = r.nested("audio")
        audio = AudioConfig.read(audio_reader) if audio_reader else AudioConfig()
        return cls(url, heartbeat, max_size, audio)

    def to_json(self) -> dict[str, object]:
        return {
            "websocket_url": self.websocket_url,
            "heartbeat_interval": self.heartbeat_interval,
            "max_message_size": self.max_message_size,
            "audio": self.audio.to_json(),
        }


def _read_tokens(r: FieldReader) -> tuple[str, str, int, int]:
    access = r.string("access_token", min_len=1, max_len=_TOKEN_MAX_LEN)
    refresh = r.string("refresh_token", min_len=1, max_len=_TOKEN_MAX_LEN)
    r.equals("token_type", c.TOKEN_TYPE)
    expires_in = r.integer("expires_in", minimum=1)
    refresh_expires_in = r.integer("refresh_expires_in", minimum=1)
    return access, refresh, expires_in, refresh_expires_in


@dataclass(frozen=True)
class ClaimResponse:
    """200 body of a claim (SPEC §2.5)."""

    access_token: str
    refresh_token: str
    device_session_id: str
    child_profile: ChildProfile
    device_config: DeviceConfig
    expires_in: int = c.ACCESS_TOKEN_TTL_S
    refresh_expires_in: int = c.REFRESH_TOKEN_TTL_S
    token_type: str = c.TOKEN_TYPE

    @classmethod
    def from_json(cls, obj: object) -> ClaimResponse:
        """Strictly validate a decoded 200 body; raises ValidationError."""
        r = FieldReader(as_object(obj))
        access, refresh, expires_in, refresh_expires_in = _read_tokens(r)
        session_id = r.string("device_session_id", min_len=1, max_len=64, pattern=c.ID_PATTERN)
        profile_reader = r.nested("child_profile")
        config_reader = r.nested("device_config")
        profile = ChildProfile.read(profile_reader) if profile_reader else None
        config = DeviceConfig.read(config_reader) if config_reader else None
        r.raise_if_errors()
        assert profile is not None and config is not None
        return cls(access, refresh, session_id, profile, config, expires_in, refresh_expires_in)

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "refresh_expires_in": self.refresh_expires_in,
            "device_session_id": self.device_session_id,
            "child_profile": self.child_profile.to_json(),
            "device_config": self.device_config.to_json(),
        }


@dataclass(frozen=True)
class RefreshRequest:
    """POST /api/v1/pair/token/refresh body (SPEC §3.2)."""

    refresh_token: str

    @classmethod
    def from_json(cls, obj: object) -> RefreshRequest:
        r = FieldReader(as_object(obj))
        token = r.string("refresh_token", min_len=1, max_len=_TOKEN_MAX_LEN)
        r.raise_if_errors()
        return cls(token)

    def to_json(self) -> dict[str, object]:
        return {"refresh_token": self.refresh_token}


@dataclass(frozen=True)
class RefreshResponse:
    """200 body of a refresh: a new access token and a rotated refresh token (SPEC §3.2)."""

    access_token: str
    refresh_token: str
    expires_in: int = c.ACCESS_TOKEN_TTL_S
    refresh_expires_in: int = c.REFRESH_TOKEN_TTL_S
    token_type: str = c.TOKEN_TYPE

    @classmethod
    def from_json(cls, obj: object) -> RefreshResponse:
        r = FieldReader(as_object(obj))
        access, refresh, expires_in, refresh_expires_in = _read_tokens(r)
        r.raise_if_errors()
        return cls(access, refresh, expires_in, refresh_expires_in)

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "refresh_expires_in": self.refresh_expires_in,
        }
