"""Exceptions raised by the protocol core.

Owns the single exception root of the package (`ProtocolError`) and the closed
vocabularies that cross the wire: WebSocket error codes (SPEC §6.3), firmware
image verification reasons (SPEC §5.4) and field-error reasons (SPEC §1.2). Console
refusal reasons (SPEC §9.3) live in the device model (`protocol.device_model`).
Callers map these to HTTP statuses, WebSocket `error` messages or event lines;
nothing here knows about transports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    # SPEC §9.3 refusal reasons are the device model's; imported for typing only, so the
    # generator (protocol.codegen, which raises ModelError) never needs its own output.
    from protocol.device_model import CommandErrorReason

# SPEC §6.3: every `error` message sent to a device carries one of these codes.
WsErrorCode = Literal[
    "invalid_json",
    "invalid_message",
    "unknown_message_type",
    "binary_not_supported",
    "message_too_large",
    "unknown_audio_session",
    "no_audio_data",
    "audio_too_short",
    "audio_too_long",
    "invalid_audio_data",
    "empty_text",
    "processing_error",
    "utterance_timeout",
    "busy",
]
WS_ERROR_CODES: frozenset[str] = frozenset(get_args(WsErrorCode))

# SPEC §5.4: why a device refuses a downloaded firmware image (ota.verify.fail).
ImageErrorReason = Literal[
    "size_mismatch",
    "sha256_mismatch",
    "bad_magic",
    "truncated",
    "bad_checksum",
    "bad_hash",
    "wrong_chip",
    "secure_version_too_low",
    "version_mismatch",
]
IMAGE_ERROR_REASONS: frozenset[str] = frozenset(get_args(ImageErrorReason))

# SPEC §1.2: `details[].reason` of a 422 body; machine-readable on purpose so that
# tests (Python and C) compare codes, not prose.
FieldReason = Literal[
    "required",
    "must_be_object",
    "must_be_string",
    "must_be_integer",
    "must_be_boolean",
    "too_short",
    "too_long",
    "invalid_characters",
    "not_hex",
    "odd_length",
    "wrong_length",
    "out_of_range",
    "unsupported_value",
    "not_semver",
    "not_url",
    "not_iso8601",
]
FIELD_REASONS: frozenset[str] = frozenset(get_args(FieldReason))


class ProtocolError(Exception):
    """Root of every exception raised by `protocol` (one root per package)."""


@dataclass(frozen=True)
class FieldError:
    """One invalid field: dotted path (e.g. `child_profile.age`) and a reason code."""

    field: str
    reason: FieldReason

    def to_json(self) -> dict[str, str]:
        """The SPEC §1.2 `details[]` entry."""
        return {"field": self.field, "reason": self.reason}


class ValidationError(ProtocolError):
    """A JSON body failed validation; `errors` lists every bad field at once."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__(self._describe())

    def _describe(self) -> str:
        if not self.errors:
            return "invalid request"
        parts = [f"{e.field or '(body)'}: {e.reason}" for e in self.errors]
        return "invalid fields: " + "; ".join(parts)


class NotAnObjectError(ValidationError):
    """The body is valid JSON but not an object (HTTP 400 `malformed_json`, SPEC §1.2)."""

    def __init__(self) -> None:
        super().__init__([FieldError("", "must_be_object")])


class MessageError(ProtocolError):
    """A WebSocket message was refused; `code` is the SPEC §6.3 `error_code`."""

    def __init__(self, code: WsErrorCode, message: str, *, field: str | None = None) -> None:
        self.code: WsErrorCode = code
        self.message = message
        self.field = field
        super().__init__(f"{code}: {message}")


class ImageError(ProtocolError):
    """A firmware image failed verification; `reason` is a SPEC §5.4 reason."""

    def __init__(self, reason: ImageErrorReason, detail: str = "") -> None:
        self.reason: ImageErrorReason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class SemverError(ProtocolError):
    """A string is not a SemVer 2.0.0 version (SPEC §5.4)."""


class EventLineError(ProtocolError):
    """A line starting with `@teddy ` is not a valid event line (SPEC §8)."""


class CommandError(ProtocolError):
    """A console line is not a valid command (SPEC §9); the message names valid commands."""

    def __init__(self, reason: CommandErrorReason, message: str) -> None:
        self.reason: CommandErrorReason = reason
        self.message = message
        super().__init__(message)


class ProvisioningError(ProtocolError):
    """A provisioning document (devices, children, config) is invalid; names the field."""


class ModelError(ProtocolError):
    """protocol/device_model.yaml is inconsistent (protocol.codegen); names the entry."""


class DeviceCodecError(ProtocolError):
    """A device input/effect in canonical JSON is malformed (protocol.device_codec)."""
