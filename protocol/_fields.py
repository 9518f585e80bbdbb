"""Strict JSON loading and field readers shared by the body and message parsers.

A `FieldReader` collects every `FieldError` of an object instead of stopping at
the first, so a 422 lists all problems at once (SPEC §1.2). Readers return a
placeholder for a bad field; callers must call `raise_if_errors()` before they
build a dataclass from the values.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from protocol.errors import FieldError, FieldReason, NotAnObjectError, ValidationError

HEX_PATTERN: Final = re.compile(r"[0-9a-fA-F]*")
# SPEC §1.1: a JSON number longer than this is refused as malformed JSON, in every parser.
# Far above any value the protocol has (a 64-bit integer has 19 digits) and below CPython's
# own 4300-digit int-conversion limit, so the refusal is ours and says what was wrong.
MAX_JSON_NUMBER_DIGITS: Final = 400
_MISSING: Final = object()


def _reject_constant(name: str) -> object:
    # NaN and Infinity are not JSON (RFC 8259); cJSON on the device refuses them too.
    raise ValueError(f"non-standard JSON constant {name}")


def _pairs_hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Duplicate keys are refused: parsers disagree on which one wins, which is a
    # classic smuggling trick between a Python server and a C client.
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_NUMBER_DIGITS:
        raise ValueError(f"a JSON number has more than {MAX_JSON_NUMBER_DIGITS} digits")
    return int(text)


def _bounded_float(text: str) -> float:
    if sum(ch.isdigit() for ch in text) > MAX_JSON_NUMBER_DIGITS:
        raise ValueError(f"a JSON number has more than {MAX_JSON_NUMBER_DIGITS} digits")
    value = float(text)
    if math.isinf(value):  # 1e400: as refused as Infinity itself
        raise ValueError(f"a JSON number is out of range: {text[:40]}")
    return value


def strict_loads(text: str) -> object:
    """Parse JSON text, refusing NaN/Infinity, duplicate keys and overlong numbers (ValueError)."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_pairs_hook,
            parse_constant=_reject_constant,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
        )
    except RecursionError:
        # 16 KiB of "[" nests deeper than Python's recursion limit: refuse, don't crash.
        raise ValueError("JSON nested too deeply") from None


def compact_dumps(obj: object) -> str:
    """Compact JSON as sent on the wire (SPEC §1.1): no spaces, UTF-8, key order kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def as_object(obj: object) -> Mapping[str, object]:
    """Return `obj` as a JSON object or raise NotAnObjectError (HTTP 400)."""
    if not isinstance(obj, dict):
        raise NotAnObjectError()
    return obj


def is_int(value: object) -> bool:
    """True for JSON integers; bool is a subclass of int in Python but not here."""
    return isinstance(value, int) and not isinstance(value, bool)


class FieldReader:
    """Reads typed fields from one JSON object, recording a FieldError per bad field."""

    def __init__(
        self,
        obj: Mapping[str, object],
        *,
        prefix: str = "",
        errors: list[FieldError] | None = None,
    ) -> None:
        self.obj = obj
        self.prefix = prefix
        self.errors: list[FieldError] = [] if errors is None else errors

    def fail(self, key: str, reason: FieldReason) -> None:
        """Record that `key` is invalid for `reason`."""
        self.errors.append(FieldError(self.prefix + key, reason))

    def raise_if_errors(self) -> None:
        """Raise ValidationError listing every recorded field error."""
        if self.errors:
            raise ValidationError(self.errors)

    def has(self, key: str) -> bool:
        """True when `key` is present and not JSON null."""
        return self.obj.get(key) is not None

    def _get(self, key: str, *, required: bool) -> object:
        value = self.obj.get(key, _MISSING)
        if value is _MISSING or (value is None and not required):
            if required:
                self.fail(key, "required")
            return _MISSING
        return value

    def _check_str(
        self,
        key: str,
        value: object,
        *,
        min_len: int,
        max_len: int | None,
        pattern: re.Pattern[str] | None,
    ) -> str | None:
        if not isinstance(value, str):
            self.fail(key, "must_be_string")
            return None
        reason: FieldReason | None = None
        if len(value) < min_len:
            reason = "too_short"
        elif max_len is not None and len(value) > max_len:
            reason = "too_long"
        elif pattern is not None and not pattern.fullmatch(value):
            reason = "invalid_characters"
        if reason is not None:
            self.fail(key, reason)
            return None
        return value

    def string(
        self,
        key: str,
        *,
        min_len: int = 0,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str:
        """A required string; returns "" (placeholder) when invalid."""
        value = self._get(key, required=True)
        if value is _MISSING:
            return ""
        checked = self._check_str(key, value, min_len=min_len, max_len=max_len, pattern=pattern)
        return "" if checked is None else checked

    def optional_string(
        self,
        key: str,
        *,
        min_len: int = 0,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        """An optional string (absent or null gives None)."""
        value = self._get(key, required=False)
        if value is _MISSING:
            return None
        return self._check_str(key, value, min_len=min_len, max_len=max_len, pattern=pattern)

    def hex_string(
        self, key: str, *, min_len: int, max_len: int, even: bool = True, exact: bool = False
    ) -> str:
        """A required hex string, returned lower-case (SPEC §1.1)."""
        value = self._get(key, required=True)
        if value is _MISSING:
            return ""
        if not isinstance(value, str):
            self.fail(key, "must_be_string")
            return ""
        reason: FieldReason | None = None
        if not HEX_PATTERN.fullmatch(value):
            reason = "not_hex"
        elif exact and len(value) != min_len:
            reason = "wrong_length"
        elif len(value) < min_len:
            reason = "too_short"
        elif len(value) > max_len:
            reason = "too_long"
        elif even and len(value) % 2:
            reason = "odd_length"
        if reason is not None:
            self.fail(key, reason)
            return ""
        return value.lower()

    def _check_int(
        self, key: str, value: object, *, minimum: int | None, maximum: int | None
    ) -> int | None:
        if not is_int(value):
            self.fail(key, "must_be_integer")
            return None
        assert isinstance(value, int)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(key, "out_of_range")
            return None
        return value

    def integer(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        """A required integer (not bool, not float); returns 0 when invalid."""
        value = self._get(key, required=True)
        if value is _MISSING:
            return 0
        checked = self._check_int(key, value, minimum=minimum, maximum=maximum)
        return 0 if checked is None else checked

    def optional_integer(
        self, key: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """An optional integer (absent or null gives None)."""
        value = self._get(key, required=False)
        if value is _MISSING:
            return None
        return self._check_int(key, value, minimum=minimum, maximum=maximum)

    def boolean(self, key: str, *, default: bool | None = None) -> bool:
        """A boolean; required unless `default` is given (then absent/null gives it)."""
        value = self._get(key, required=default is None)
        if value is _MISSING:
            return bool(default)
        if not isinstance(value, bool):
            self.fail(key, "must_be_boolean")
            return bool(default)
        return value

    def equals(self, key: str, expected: str | int) -> None:
        """A required field that must equal `expected` (e.g. format "pcm_s16le")."""
        value = self._get(key, required=True)
        if value is _MISSING:
            return
        if type(value) is not type(expected):
            self.fail(key, "must_be_string" if isinstance(expected, str) else "must_be_integer")
        elif value != expected:
            self.fail(key, "unsupported_value")

    def iso_timestamp(self, key: str) -> str:
        """A required ISO 8601 timestamp string (server messages, SPEC §6.4)."""
        value = self.string(key, min_len=1)
        if value:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                self.fail(key, "not_iso8601")
                return ""
        return value

    def nested(self, key: str) -> FieldReader | None:
        """A required nested object, read with a dotted prefix into the same error list."""
        value = self._get(key, required=True)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(key, "must_be_object")
            return None
        return FieldReader(value, prefix=f"{self.prefix}{key}.", errors=self.errors)

    def dict_value(self, key: str) -> dict[str, object]:
        """A required object returned as a plain dict (contents not checked)."""
        value = self._get(key, required=True)
        if value is _MISSING:
            return {}
        if not isinstance(value, dict):
            self.fail(key, "must_be_object")
            return {}
        return dict(value)
