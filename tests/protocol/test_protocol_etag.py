"""protocol.etag: the S15 ETag scheme and If-None-Match evaluation (SPEC §4.2, §5.1)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.etag import (
    compute_etag,
    etag_for_sha256,
    if_none_match_matches,
    is_weak,
    opaque_tag,
    parse_if_none_match,
)
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

ETAGS = vector_cases("etag")
INM = vector_cases("if_none_match")


@pytest.mark.parametrize("case", ETAGS, ids=[c["id"] for c in ETAGS])
def test_etag_vector(case: dict[str, Any]) -> None:
    assert compute_etag(case["body"]) == case["etag"]


def test_s15_anchors_are_in_the_vectors() -> None:
    tags = {c["id"]: c["etag"] for c in ETAGS}
    assert tags["s15_default_config"] == '"d014a83e538aa232"'
    assert tags["s15_default_manifest"] == '"b34cdd02d473274b"'


@pytest.mark.parametrize("case", INM, ids=[c["id"] for c in INM])
def test_if_none_match_vector(case: dict[str, Any]) -> None:
    assert if_none_match_matches(case["header"], case["etag"]) is case["matches"]
    if case["header"] is not None:
        assert parse_if_none_match(case["header"]) == case["parsed"]


def test_helpers() -> None:
    assert etag_for_sha256("AB" * 32) == '"' + "ab" * 32 + '"'
    assert opaque_tag('W/"x"') == '"x"' and opaque_tag('"x"') == '"x"'
    assert is_weak('W/"x"') and not is_weak('"x"')


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=5))
def test_etag_shape_and_key_order_independence(body: dict[str, object]) -> None:
    tag = compute_etag(body)
    assert len(tag) == 18 and tag[0] == tag[-1] == '"'
    int(tag[1:-1], 16)
    assert compute_etag(dict(reversed(list(body.items())))) == tag


OPAQUE = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='"'),
    max_size=20,
)
TAGS = st.builds(lambda weak, body: ("W/" if weak else "") + f'"{body}"', st.booleans(), OPAQUE)


@given(
    st.lists(TAGS, min_size=1, max_size=5),
    st.lists(st.sampled_from(["", " ", "\t", "  "]), min_size=12, max_size=12),
)
def test_list_parsing_round_trip(tags: list[str], spaces: list[str]) -> None:
    header = ",".join(f"{spaces[i % 12]}{t}{spaces[(i + 5) % 12]}" for i, t in enumerate(tags))
    assert parse_if_none_match(header) == tags
    for tag in tags:
        assert if_none_match_matches(header, opaque_tag(tag))
        assert if_none_match_matches(header, "W/" + opaque_tag(tag))


@given(st.text(max_size=40))
def test_garbage_headers_never_raise(header: str) -> None:
    result = parse_if_none_match(header)
    assert result == "*" or all(t.endswith('"') for t in result)
