"""Semantic Versioning 2.0.0 parsing and precedence.

Owns the version comparison of the device's update decision (SPEC §5.4), which
replaces the original firmware's plain string inequality (defect 16). Build
metadata is parsed and kept but ignored for ordering and equality, as SemVer
§10 requires; a leading "v" (as in git tags and IDF `PROJECT_VER`) is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from protocol.errors import SemverError

# The official SemVer 2.0.0 regex (semver.org), with an optional leading "v".
_SEMVER_RE: Final = re.compile(
    r"v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    re.ASCII,  # \d must not match non-ASCII digits such as Arabic-Indic numerals
)
MAX_VERSION_LEN: Final = 256

Identifier = int | str


def _identifier(text: str) -> Identifier:
    return int(text) if text.isdigit() else text


def _compare_identifiers(a: Identifier, b: Identifier) -> int:
    # SemVer §11.4: numeric identifiers compare numerically and always have lower
    # precedence than alphanumeric ones; alphanumerics compare in ASCII order.
    if isinstance(a, int) and isinstance(b, int):
        return (a > b) - (a < b)
    if isinstance(a, int):
        return -1
    if isinstance(b, int):
        return 1
    return (a > b) - (a < b)


def _compare_prerelease(a: tuple[Identifier, ...], b: tuple[Identifier, ...]) -> int:
    if not a or not b:
        # A version without prerelease outranks one with it (1.0.0-rc.1 < 1.0.0).
        return (not a) - (not b)
    for x, y in zip(a, b, strict=False):
        result = _compare_identifiers(x, y)
        if result:
            return result
    return (len(a) > len(b)) - (len(a) < len(b))


@dataclass(frozen=True, eq=False)
class Version:
    """A parsed SemVer 2.0.0 version; compares by precedence (build ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[Identifier, ...] = ()
    build: tuple[str, ...] = ()

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 by SemVer precedence."""
        mine = (self.major, self.minor, self.patch)
        theirs = (other.major, other.minor, other.patch)
        if mine != theirs:
            return -1 if mine < theirs else 1
        return _compare_prerelease(self.prerelease, other.prerelease)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) == 0

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.prerelease))

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __le__(self, other: Version) -> bool:
        return self.compare(other) <= 0

    def __gt__(self, other: Version) -> bool:
        return self.compare(other) > 0

    def __ge__(self, other: Version) -> bool:
        return self.compare(other) >= 0

    @property
    def is_prerelease(self) -> bool:
        """True for versions such as 1.2.0-rc.1."""
        return bool(self.prerelease)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(p) for p in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text


def parse_version(s: str) -> Version:
    """Parse `s` (optionally prefixed "v"); raises SemverError when not SemVer 2.0.0."""
    if not isinstance(s, str) or len(s) > MAX_VERSION_LEN:
        raise SemverError(f"not a version string: {s!r}")
    match = _SEMVER_RE.fullmatch(s)
    if match is None:
        raise SemverError(f"not a SemVer 2.0.0 version: {s!r}")
    pre = match.group("pre")
    build = match.group("build")
    return Version(
        major=int(match.group("major")),
        minor=int(match.group("minor")),
        patch=int(match.group("patch")),
        prerelease=tuple(_identifier(p) for p in pre.split(".")) if pre else (),
        build=tuple(build.split(".")) if build else (),
    )


def is_valid_version(s: str) -> bool:
    """True when `s` parses as a version."""
    try:
        parse_version(s)
    except SemverError:
        return False
    return True


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 comparing two version strings; raises SemverError."""
    return parse_version(a).compare(parse_version(b))
