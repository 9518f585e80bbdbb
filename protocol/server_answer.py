"""What a device reads from a server's answer, and how it quotes it in an event line.

Owns the device side of SPEC §1.1 (how a device decodes any HTTP body) and SPEC §8.2
"What the server said" (how `claim.fail`, `token.refresh.fail`, `config.fail`,
`ws.refused` and `ota.none` say why): one definition both device cores follow (the C
twin is `teddy_answer.h`; `protocol/vectors/server_answers.json` holds them to it).

- `decode_body`: a body as a device parses it: valid UTF-8, strict JSON (`strict_loads`),
  nesting at most `JSON_MAX_DEPTH`, and no U+0000 or lone surrogate in any string (a C
  string ends at U+0000 and cJSON refuses lone surrogates, so both cores refuse them).
- `server_error`: an error answer's `code` and `message`: a SPEC §1.2 body's
  `error.code`/`error.message`; else FastAPI's `{"detail": "<text>"}` (the original
  server's shape); else a quoted prefix of the body text. The code falls back to
  `http_<status>`, so two refusals that differ only in their text still differ.
- `bad_fields`: the `field` and `message` of a 200 body that failed validation.
- `quote`: server text made safe and short for an event line (SPEC §8.1): it ends at a
  U+0000, control characters become spaces, runs of spaces one, and at most `max_bytes`
  UTF-8 bytes remain (cut at a character boundary, ending `...`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from protocol._fields import strict_loads
from protocol.device_model import (
    JSON_MAX_DEPTH,
    SERVER_BODY_SCAN_BYTES,
    SERVER_CODE_MAX_BYTES,
    SERVER_TEXT_MAX_BYTES,
)
from protocol.errors import FieldError

__all__ = [
    "NOT_JSON",
    "BadAnswer",
    "ServerError",
    "bad_fields",
    "decode_body",
    "quote",
    "quote_bytes",
    "server_error",
]

CUT: Final = "..."
# C0 and C1 controls, DEL, the Unicode line separators (str.splitlines splits on them) and
# lone surrogates (never from decode_body; here so `quote` can always encode its result).
_UNSAFE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SPACES: Final = re.compile(" {2,}")
_NOT_IN_A_STRING: Final = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class ServerError:
    """An error answer as an event reports it: `code` and `message` (SPEC §8.2)."""

    code: str
    message: str


@dataclass(frozen=True)
class BadAnswer:
    """A 200 body the device cannot use: its first invalid `field` and every reason."""

    field: str
    message: str


NOT_JSON: Final = BadAnswer("", "(body): invalid_json")


def quote(text: str, max_bytes: int = SERVER_TEXT_MAX_BYTES) -> str:
    """`text` as an event line may carry it: one line, no controls, at most `max_bytes`."""
    text = _SPACES.sub(" ", _UNSAFE.sub(" ", text.split("\x00", 1)[0])).strip(" ")
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget, used, kept = max_bytes - len(CUT), 0, []
    for char in text:
        size = len(char.encode("utf-8"))
        if used + size > budget:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip(" ") + CUT


def _utf8_length(data: bytes, i: int) -> int:
    """Length of the well-formed UTF-8 sequence at data[i] (RFC 3629), 0 when none is."""
    lead = data[i]
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        size, low, high = 2, 0x80, 0xBF
    elif lead == 0xE0:
        size, low, high = 3, 0xA0, 0xBF
    elif lead == 0xED:
        size, low, high = 3, 0x80, 0x9F  # no UTF-16 surrogates
    elif 0xE1 <= lead <= 0xEF:
        size, low, high = 3, 0x80, 0xBF
    elif lead == 0xF0:
        size, low, high = 4, 0x90, 0xBF
    elif 0xF1 <= lead <= 0xF3:
        size, low, high = 4, 0x80, 0xBF
    elif lead == 0xF4:
        size, low, high = 4, 0x80, 0x8F  # at most U+10FFFF
    else:
        return 0
    if i + size > len(data) or not low <= data[i + 1] <= high:
        return 0
    if any(not 0x80 <= data[i + k] <= 0xBF for k in range(2, size)):
        return 0
    return size


def quote_bytes(data: bytes, max_bytes: int = SERVER_TEXT_MAX_BYTES) -> str:
    """`quote` of raw bytes: well-formed UTF-8 is kept, every other byte reads as `?`.

    Written out byte by byte (not Python's codec) so that the C core reads a broken or
    binary body exactly the same way.
    """
    chars: list[str] = []
    i = 0
    while i < len(data):
        size = _utf8_length(data, i)
        if size == 0:
            chars.append("?")
            i += 1
        else:
            chars.append(data[i : i + size].decode("utf-8"))
            i += size
    return quote("".join(chars), max_bytes)


def _check_tree(doc: object) -> None:
    """SPEC §1.1 device limits on a decoded document; raises ValueError."""
    stack: list[tuple[object, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _NOT_IN_A_STRING.search(value):
                raise ValueError("a string holds U+0000 or a lone surrogate")
        elif isinstance(value, dict | list):
            if depth > JSON_MAX_DEPTH:
                raise ValueError(f"JSON nested deeper than {JSON_MAX_DEPTH}")
            items = list(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
            for key, item in items:
                if key is not None:
                    stack.append((key, depth))
                stack.append((item, depth + 1))


def decode_body(body: bytes) -> object:
    """The JSON value of an HTTP body, read as both device cores read it; raises ValueError."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("body is not UTF-8") from None
    doc = strict_loads(text)
    _check_tree(doc)
    return doc


def server_error(status: int, body: bytes) -> ServerError:
    """The `code` and `message` an event reports for an error answer (SPEC §8.2)."""
    fallback = f"http_{status}"
    try:
        doc = decode_body(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        error = doc.get("error")
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            code_text = quote(code, SERVER_CODE_MAX_BYTES) if isinstance(code, str) else ""
            if code_text:
                return ServerError(code_text, quote(message) if isinstance(message, str) else "")
        detail = doc.get("detail")
        if isinstance(detail, str):
            return ServerError(fallback, quote(detail))
    return ServerError(fallback, quote_bytes(body[:SERVER_BODY_SCAN_BYTES]))


def bad_fields(errors: Sequence[FieldError]) -> BadAnswer:
    """`field` (the first in sorted order) and `message` listing every `field: reason`.

    Sorted, so the cores agree whatever order their parsers record the errors in.
    """
    ordered = sorted(errors, key=lambda e: (e.field, e.reason))
    if not ordered:
        return NOT_JSON
    listing = "; ".join(f"{e.field or '(body)'}: {e.reason}" for e in ordered)
    return BadAnswer(ordered[0].field, quote(listing))
