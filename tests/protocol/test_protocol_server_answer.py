"""What a device reads from a server's answer (SPEC §1.1, §8.1, §8.2): vectors and hostile bodies.

The vector file `server_answers.json` is shared with the C core (test_answer.c); the
property tests here throw arbitrary bytes and text at the reader and check that what
comes out can always be printed as one valid, bounded event line.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.device_model import SERVER_CODE_MAX_BYTES, SERVER_TEXT_MAX_BYTES
from protocol.errors import FieldError, FieldReason
from protocol.eventline import format_event, parse_event_line, validate_event
from protocol.server_answer import (
    NOT_JSON,
    bad_fields,
    decode_body,
    quote,
    quote_bytes,
    server_error,
)
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

_CASES = vector_cases("server_answers")


@pytest.mark.parametrize(
    "case", [c for c in _CASES if c["kind"] == "error"], ids=lambda c: str(c["id"])
)
def test_error_answer_vectors(case: dict[str, object]) -> None:
    body = bytes.fromhex(str(case["body"]))
    status = case["status"]
    assert isinstance(status, int)
    got = server_error(status, body)
    assert {"code": got.code, "message": got.message} == case["expect"]


@pytest.mark.parametrize(
    "case", [c for c in _CASES if c["kind"] == "fields"], ids=lambda c: str(c["id"])
)
def test_bad_field_vectors(case: dict[str, object]) -> None:
    raw = case["errors"]
    assert isinstance(raw, list)
    errors = [FieldError(e["field"], e["reason"]) for e in raw]
    got = bad_fields(errors)
    assert {"field": got.field, "message": got.message} == case["expect"]


def test_the_two_original_404s_read_differently() -> None:
    """The issue that started it: both bodies say HTTP_404; only the message tells them apart."""
    ids = {"original_device_404", "original_child_404"}
    got = {server_error(404, bytes.fromhex(str(c["body"]))) for c in _CASES if c["id"] in ids}
    assert len(got) == 2
    assert {e.code for e in got} == {"HTTP_404"}


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe",
        b"[1,",
        b'{"a":1,"a":2}',
        b'{"a":NaN}',
        b'{"a":"\\u0000"}',
        b'{"\\u0000":1}',
        b'{"a":"\\udc00"}',
        b"[" * 65 + b"]" * 65,
    ],
)
def test_decode_body_refuses_what_the_c_core_cannot_read(body: bytes) -> None:
    with pytest.raises(ValueError):
        decode_body(body)


def test_decode_body_reads_64_levels() -> None:
    assert decode_body(b"[" * 64 + b"]" * 64) == json.loads("[" * 64 + "]" * 64)


def test_not_json_names_the_body() -> None:
    assert NOT_JSON.field == "" and NOT_JSON.message == "(body): invalid_json"


def _assert_printable(code: str, message: str) -> None:
    assert len(code.encode("utf-8")) <= SERVER_CODE_MAX_BYTES
    assert len(message.encode("utf-8")) <= SERVER_TEXT_MAX_BYTES
    for text in (code, message):
        assert text == text.strip(" ")
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text)
        assert "\u2028" not in text and "\u2029" not in text
    line = format_event(
        uptime_ms=1,
        name="claim.fail",
        data={
            "status": 404,
            "code": code,
            "attempt": 1,
            "retry_in_ms": 0,
            "message": message,
            "field": "",
        },
    )
    assert len(line.splitlines()) == 1
    event = parse_event_line(line)
    assert event is not None
    validate_event(event)
    assert event.data["message"] == message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=100, max_value=599))
def test_any_bytes_give_a_printable_line(body: bytes, status: int) -> None:
    got = server_error(status, body)
    assert got.code  # never empty: at least http_<status>
    _assert_printable(got.code, got.message)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600), st.text(max_size=100))
def test_any_spec_body_gives_a_printable_line(message: str, code: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8", "replace")
    got = server_error(400, body)
    _assert_printable(got.code, got.message)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=8, max_value=300))
def test_quote_is_bounded_and_a_prefix(text: str, limit: int) -> None:
    quoted = quote(text, limit)
    assert len(quoted.encode("utf-8")) <= limit
    if not quoted.endswith("...") or len(text.encode("utf-8", "replace")) <= limit:
        return
    assert quote(text, 10_000).startswith(quoted[:-3])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_quote_bytes_of_utf8_is_quote_of_the_text(text: str) -> None:
    clean = text.encode("utf-8", "surrogatepass")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        return  # not UTF-8 (Python's surrogates): quote_bytes reads those bytes as "?"
    assert quote_bytes(clean) == quote(text)


def test_bad_fields_lists_every_field_once_sorted() -> None:
    reasons: list[FieldReason] = ["required", "not_url"]
    errors = [FieldError("b", reasons[0]), FieldError("a", reasons[1])]
    got = bad_fields(errors)
    assert got.field == "a"
    assert got.message == "a: not_url; b: required"
