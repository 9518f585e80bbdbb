"""Wire patterns (hil.tap.pattern): what matches, why not, what a capture reads."""

from __future__ import annotations

import pytest

from hil.tap.pattern import WirePattern, capture_value, describe, matches, mismatches, resolve

pytestmark = pytest.mark.unit

RESPONSE: dict[str, object] = {
    "kind": "response",
    "dir": "down",
    "method": "GET",
    "path": "/api/v1/esp32/config",
    "status": 304,
    "headers": [["ETag", '"abc"'], ["Set-Cookie", "a"], ["set-cookie", "b"]],
    "body": {"size": 0},
}
CLAIM: dict[str, object] = {
    "kind": "request",
    "dir": "up",
    "method": "POST",
    "path": "/api/v1/pair/claim",
    "query_params": {"x": "a b"},
    "headers": [["Content-Type", "application/json"]],
    "body": {"size": 9, "json": {"child": {"name": "Mia Rose"}, "nonce": "00ff"}},
}
FRAME: dict[str, object] = {
    "kind": "ws",
    "dir": "down",
    "opcode": "text",
    "type": "system",
    "fields": {"type": "system", "data": {"type": "connection_established", "session_id": "s1"}},
}


def test_a_304_with_its_etag_and_without_a_body_type_matches() -> None:
    pattern = WirePattern(
        "response", path="/api/v1/esp32/config", status=304,
        headers={"etag": '"[a-z]+"', "content-type": None},
    )  # fmt: skip
    assert matches(pattern, RESPONSE)
    assert capture_value(RESPONSE, "headers.ETag") == '"abc"'
    assert capture_value(RESPONSE, "headers.set-cookie") == "a, b"  # repeats joined


def test_mismatches_say_what_differs() -> None:
    pattern = WirePattern(
        "response", status="2\\d\\d", headers={"Cache-Control": ".+", "ETag": None}
    )
    assert mismatches(pattern, RESPONSE) == [
        "status: 304 does not match '2\\\\d\\\\d'",
        "no header Cache-Control (headers: etag, set-cookie)",
        "header ETag present ('\"abc\"'), expected absent",
    ]
    assert mismatches(pattern, CLAIM) == ["a request record, not a response"]


def test_request_bodies_queries_and_frames_match_by_dotted_paths() -> None:
    assert matches(
        WirePattern("request", method="POST", query={"x": "a b"}, body={"child.name": "Mia .*"}),
        CLAIM,
    )
    assert mismatches(WirePattern("request", body={"child.age": 7}), CLAIM) == ["no body.child.age"]
    frame = WirePattern("ws", direction="down", type="system", match={"data.type": "connection_.*"})
    assert matches(frame, FRAME)
    assert capture_value(FRAME, "data.session_id") == "s1"
    with pytest.raises(KeyError, match=r"no 'data\.nope'"):
        capture_value(FRAME, "data.nope")


def test_variables_are_filled_in_literally_and_described() -> None:
    pattern = WirePattern("request", path="/api/${p}", body={"nonce": "${n}"})
    filled = resolve(pattern, {"p": "v1/pair.claim", "n": "00ff"})
    assert filled.path == "/api/v1/pair\\.claim"  # the value's dot is no wildcard
    assert filled.body == {"nonce": "00ff"}
    assert describe(filled) == (
        "a request on the wire with path =~ //api/v1/pair\\.claim/, body.nonce =~ /00ff/"
    )
