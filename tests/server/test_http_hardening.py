"""HTTP request-layer hardening (issue 13): bounded Range numbers, streamed body limits,
exact paths, expected client mistakes logged without tracebacks (SPEC §1, §1.1, §5.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.image import build_app_image
from server.http_range import RangeNotSatisfiable, bounded, parse_range
from server.releases import publish_release
from server.store import Release
from tests.server.helpers import Harness, error_code

pytestmark = pytest.mark.unit

HUGE = "9" * 5000  # past Python's int-conversion digit limit (4300)


def _publish(h: Harness) -> Release:
    image = build_app_image(version="1.2.0", chip="esp32", secure_version=0)
    return publish_release(store=h.state.store, data_dir=h.data_dir, image=image, now=h.clock.now)


# -- Range numbers are bounded (SPEC §5.2) ------------------------------------------------

_NUMBER = st.one_of(
    st.integers(min_value=0, max_value=10**30).map(str),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=6000).map(lambda n: "0" * n + "7"),
)
_SPECS = st.one_of(
    st.tuples(_NUMBER | st.just(""), _NUMBER | st.just("")).map(lambda p: f"{p[0]}-{p[1]}"),
    st.text(alphabet="0123456789-, =\t٣bytesBYTES", max_size=40),
)
_HEADERS = st.one_of(st.text(max_size=60), _SPECS.map(lambda s: "bytes=" + s))


@given(header=_HEADERS, size=st.integers(min_value=0, max_value=50_000_000))
def test_parse_range_raises_only_416_and_stays_inside_the_file(header: str, size: int) -> None:
    try:
        result = parse_range(header, size)
    except RangeNotSatisfiable:
        return
    if result is not None:
        assert 0 <= result.start <= result.end < size


@given(digits=_NUMBER, cap=st.integers(min_value=0, max_value=10**12))
def test_bounded_is_min_of_the_number_and_the_cap(digits: str, cap: int) -> None:
    # The oracle converts the number exactly (fine for tests: no client controls it here).
    exact = int(digits.lstrip("0") or "0") if len(digits.lstrip("0")) < 4000 else 10**4000
    assert bounded(digits, cap) == min(exact, cap)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (f"0-{HUGE}", (0, 99)),  # end clamped to the file
        (f"-{HUGE}", (0, 99)),  # suffix longer than the file: the whole file
        (f"{'0' * 5000}5-10", (5, 10)),  # leading zeros are not a big number
        (f"{HUGE}-5", None),  # last < first: invalid, ignored
    ],
)
def test_huge_numbers_mean_past_the_end(spec: str, expected: tuple[int, int] | None) -> None:
    result = parse_range("bytes=" + spec, 100)
    assert (None if result is None else (result.start, result.end)) == expected


def test_huge_start_is_416() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={HUGE}-", 100)
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={HUGE}-{HUGE}9", 100)


@pytest.mark.parametrize(
    ("spec", "status"), [(f"{HUGE}-", 416), (f"0-{HUGE}", 206), (f"-{HUGE}", 206)]
)
def test_a_5000_digit_range_number_over_http_is_not_500(
    dev: Harness, spec: str, status: int
) -> None:
    release = _publish(dev)
    url = f"/web/firmware/{release.filename}"
    response = dev.client.get(url, headers={"Range": "bytes=" + spec})
    assert response.status_code == status, response.text
    if status == 416:
        assert error_code(response) == "range_not_satisfiable"
        assert response.headers["content-range"] == f"bytes */{release.size}"
    else:
        assert response.headers["content-range"] == f"bytes 0-{release.size - 1}/{release.size}"
