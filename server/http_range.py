"""HTTP Range parsing for firmware downloads (SPEC §5.2, RFC 9110 §14).

One byte range is served as 206; a multi-range request gets the whole image as 200
(allowed by RFC 9110 and what small HTTP clients on devices expect); a range that starts
past the end is 416 with ``Content-Range: bytes */<size>``.

Every number a client sends here is bounded before it becomes an int (issue 13): a
position with more digits than the image size has is simply "past the end", so a
5000-digit number costs nothing and cannot reach Python's int-conversion digit limit.
Numbers are ASCII digits only (RFC 9110 DIGIT); ``\\d`` would also take other scripts' digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*", re.ASCII)


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


def bounded(digits: str, cap: int) -> int:
    """``min(int(digits), cap)`` without converting more digits than ``cap`` has."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(cap)):
        return cap  # more digits than the cap: larger than it, whatever they are
    return min(int(significant or "0"), cap)


def _less(a: str, b: str) -> bool:
    """``int(a) < int(b)`` for digit strings of any length, exactly and without int()."""
    a, b = a.lstrip("0"), b.lstrip("0")
    return (len(a), a) < (len(b), b)


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
        # bytes=-N: the last N bytes; N past the size means the whole image.
        suffix = bounded(last, size)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(size - suffix, size - 1)
    if last != "" and _less(last, first):
        return None  # syntactically invalid: ignore
    start = bounded(first, size)  # a start past the end is "size": 416 below
    if start >= size:
        raise RangeNotSatisfiable
    end = size - 1 if last == "" else bounded(last, size - 1)
    return ByteRange(start, end)
