"""Entity tags and `If-None-Match` evaluation for config and manifest caching.

Owns SPEC §4.2 and §5.1: the ETag scheme kept from the original S15 server (so its
published vectors still hold) and a proper RFC 9110 §13.1.2 `If-None-Match`
evaluation (lists, `W/` weak tags, `*`), which S15 did as a plain string compare
(defect 17).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Final, Literal

ETAG_HEX_CHARS: Final = 16
_WEAK_PREFIX: Final = "W/"
_OWS: Final = " \t"


def compute_etag(body: Mapping[str, object]) -> str:
    """Strong ETag of a JSON body: `"` + sha256(json.dumps(body, sort_keys=True))[:16] + `"`.

    The JSON uses Python's default separators (", " and ": ") and ASCII escapes,
    exactly as S15 did: the S15 default config body gives "d014a83e538aa232".
    """
    canonical = json.dumps(dict(body), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f'"{digest[:ETAG_HEX_CHARS]}"'


def etag_for_sha256(sha256_hex: str) -> str:
    """Strong ETag of a firmware file: its full lower-case SHA-256 in quotes (SPEC §5.2)."""
    return f'"{sha256_hex.lower()}"'


def opaque_tag(etag: str) -> str:
    """The quoted opaque part of an entity tag, without any `W/` prefix."""
    return etag[len(_WEAK_PREFIX) :] if etag.startswith(_WEAK_PREFIX) else etag


def is_weak(etag: str) -> bool:
    """True for a weak entity tag (`W/"..."`)."""
    return etag.startswith(_WEAK_PREFIX)


def _valid_etagc(text: str) -> bool:
    # RFC 9110 etagc = %x21 / %x23-7E / obs-text; headers arrive latin-1 decoded.
    return all(ch == "\x21" or "\x23" <= ch <= "\x7e" or "\x80" <= ch <= "\xff" for ch in text)


def _skip(header: str, i: int, chars: str) -> int:
    while i < len(header) and header[i] in chars:
        i += 1
    return i


def _next_comma(header: str, i: int) -> int:
    comma = header.find(",", i)
    return len(header) if comma < 0 else comma


def _read_tag(header: str, i: int) -> tuple[str | None, int]:
    """Read one member starting at `i`; returns (tag or None if malformed, next index)."""
    quote = i + 2 if header.startswith('W/"', i) else i if header[i] == '"' else -1
    if quote < 0:
        return None, _next_comma(header, i)
    close = header.find('"', quote + 1)
    if close < 0:
        return None, len(header)  # unterminated quote: nothing after it is trustworthy
    tag = header[i : close + 1]
    after = _skip(header, close + 1, _OWS)
    if after < len(header) and header[after] != ",":
        return None, _next_comma(header, after)  # junk glued to the tag
    if not _valid_etagc(header[quote + 1 : close]):
        return None, after
    return tag, after


def parse_if_none_match(header: str) -> list[str] | Literal["*"]:
    """Members of an If-None-Match header, as written (weak ones keep `W/`).

    Returns "*" when the field value is exactly `*`. Malformed members are ignored
    rather than failing the request: a bad cache hint must only cost a full 200.
    """
    if header.strip(_OWS) == "*":
        return "*"
    tags: list[str] = []
    i = 0
    while True:
        i = _skip(header, i, _OWS + ",")
        if i >= len(header):
            return tags
        tag, i = _read_tag(header, i)
        if tag is not None:
            tags.append(tag)


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """True when a GET must answer 304 (RFC 9110 §13.1.2, weak comparison)."""
    if header is None:
        return False
    members = parse_if_none_match(header)
    if members == "*":
        return True
    wanted = opaque_tag(etag)
    return any(opaque_tag(tag) == wanted for tag in members)
