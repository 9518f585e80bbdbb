"""HTTP Range parsing for firmware downloads (SPEC §5.2, RFC 9110 §14).

One byte range is served as 206; a multi-range request gets the whole image as 200
(allowed by RFC 9110 and what small HTTP clients on devices expect); a range that starts
past the end is 416 with ``Content-Range: bytes */<size>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiable(Exception):  # noqa: N818 - mirrors the HTTP status name
    """No byte of the requested range exists in the representation."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range to serve, or None to serve the whole body (absent/ignorable header)."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None  # unknown unit or garbage: RFC 9110 says ignore the header
    parts = spec.split(",")
    if len(parts) != 1:
        return None
    match = _SPEC.fullmatch(parts[0])
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignore
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, end)
