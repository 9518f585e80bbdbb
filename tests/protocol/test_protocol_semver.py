"""protocol.semver: SemVer 2.0.0 vectors and ordering properties (SPEC §5.4)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import SemverError
from protocol.semver import Version, compare_versions, is_valid_version, parse_version
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

CASES = vector_cases("semver")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_semver_vector(case: dict[str, Any]) -> None:
    if case["kind"] == "compare":
        assert compare_versions(case["a"], case["b"]) == case["expect"]
        assert compare_versions(case["b"], case["a"]) == -case["expect"]
    elif case["kind"] == "parse":
        v = parse_version(case["input"])
        got = {
            "major": v.major,
            "minor": v.minor,
            "patch": v.patch,
            "prerelease": list(v.prerelease),
            "build": list(v.build),
        }
        assert got == case["expect"]
    else:
        with pytest.raises(SemverError):
            parse_version(case["input"])
        assert not is_valid_version(case["input"])


def test_str_is_canonical_without_v() -> None:
    assert str(parse_version("v1.2.3-rc.1+b.7")) == "1.2.3-rc.1+b.7"
    assert parse_version("1.2.3").is_prerelease is False


def test_build_is_ignored_for_equality_and_hash() -> None:
    a, b = parse_version("1.0.0+a"), parse_version("1.0.0+b")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert (a == "1.0.0") is False


def test_non_string_is_refused() -> None:
    with pytest.raises(SemverError):
        parse_version(123)  # type: ignore[arg-type]
    with pytest.raises(SemverError):
        parse_version("1.0.0-" + "a" * 300)


IDENT = st.integers(0, 50) | st.from_regex(r"[0-9]*[A-Za-z-][0-9A-Za-z-]{0,3}", fullmatch=True)
VERSIONS = st.builds(
    Version,
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
    st.lists(IDENT, max_size=3).map(tuple),
    st.lists(st.from_regex(r"[0-9A-Za-z-]{1,4}", fullmatch=True), max_size=2).map(tuple),
)


@given(VERSIONS)
def test_str_parse_round_trip(v: Version) -> None:
    parsed = parse_version(str(v))
    assert parsed == v and parsed.build == v.build and parsed.prerelease == v.prerelease


@given(VERSIONS, VERSIONS)
def test_ordering_is_antisymmetric_and_total(a: Version, b: Version) -> None:
    assert a.compare(b) == -b.compare(a)
    assert (a < b) + (a == b) + (a > b) == 1
    assert (a <= b) == (a < b or a == b) and (a >= b) == (a > b or a == b)


@given(VERSIONS, VERSIONS, VERSIONS)
def test_ordering_is_transitive(a: Version, b: Version, c: Version) -> None:
    x, y, z = sorted([a, b, c])
    assert x <= y <= z and x <= z


@given(VERSIONS)
def test_prerelease_sorts_before_release(v: Version) -> None:
    release = Version(v.major, v.minor, v.patch)
    assert v <= release
    assert (v < release) == v.is_prerelease
