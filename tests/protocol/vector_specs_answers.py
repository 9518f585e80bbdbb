"""Hand-written golden vector cases: what a device reads from a server's answer (SPEC §8.2).

Used only by make_vectors.py; not a test module. Every expectation is typed in from
SPEC §1.1 (device decoding), §8.1 (bounds) and §8.2 ("What the server said"); the
original server's bodies (`HTTP_404` with two different messages, FastAPI's `detail`)
come from original-system.md §1.1. Bodies are written as text or bytes here and stored
as hex in the file.
"""

from __future__ import annotations

import json
from typing import Any

Case = dict[str, Any]

ORIGINAL_DEVICE_404 = {
    "error": {
        "code": "HTTP_404",
        "message": "Device not registered or not found",
        "correlation_id": "0b7f3c52-4f0e-4d3b-8a8e-7c7f2a1d9e10",
    }
}
ORIGINAL_CHILD_404 = {
    "error": {
        "code": "HTTP_404",
        "message": "Child profile not found or inactive",
        "correlation_id": "9d3f0e52-4f0e-4d3b-8a8e-7c7f2a1d9e11",
    }
}
FASTAPI_422 = (
    '{"detail":[{"loc":["body","nonce"],"msg":"field required","type":"value_error.missing"},'
    '{"loc":["body","hmac_hex"],"msg":"field required","type":"value_error.missing"},'
    '{"loc":["body","device_id"],"msg":"ensure this value has at least 8 characters"}]}'
)
HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
)


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _err(code: object, message: object) -> bytes:
    return _json({"error": {"code": code, "message": message, "correlation_id": "c-1"}})


def _deep(levels: int) -> bytes:
    """A SPEC §1.2 body whose `x` member nests `levels` arrays (the object is level 1)."""
    return b'{"error":{"code":"deep","message":"m"},"x":' + b"[" * levels + b"]" * levels + b"}"


def _errors() -> list[tuple[str, int, bytes, str, str]]:
    """(id, status, body, code, message) for server_error."""
    return [
        (
            "spec_body",
            404,
            _err("device_not_found", "device is not registered; provision it"),
            "device_not_found",
            "device is not registered; provision it",
        ),
        (
            "spec_body_without_message",
            429,
            _json({"error": {"code": "rate_limited"}}),
            "rate_limited",
            "",
        ),
        (
            "original_device_404",
            404,
            _json(ORIGINAL_DEVICE_404),
            "HTTP_404",
            "Device not registered or not found",
        ),
        (
            "original_child_404",
            404,
            _json(ORIGINAL_CHILD_404),
            "HTTP_404",
            "Child profile not found or inactive",
        ),
        ("fastapi_detail", 404, b'{"detail":"Not Found"}', "http_404", "Not Found"),
        ("fastapi_422_list", 422, FASTAPI_422.encode(), "http_422", FASTAPI_422[:197] + "..."),
        (
            "nginx_html",
            502,
            HTML_502.encode(),
            "http_502",
            "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad "
            "Gateway</h1></center> <hr><center>nginx</center> </body>",
        ),
        ("empty", 503, b"", "http_503", ""),
        ("binary_png", 500, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "http_500", "?PNG"),
        (
            "control_characters",
            400,
            _err("bad", "line1\nline2\t\u0007end\r\n"),
            "bad",
            "line1 line2 end",
        ),
        ("spaces_collapse", 400, _err("bad", "   a    b  "), "bad", "a b"),
        ("c1_and_line_separators", 400, _err("x", "a\u0085b\u2028c\u2029d"), "x", "a b c d"),
        ("nbsp_is_kept", 400, _err("x", "a\u00a0b"), "x", "a\u00a0b"),
        ("huge_message", 400, _err("big", "a" * 5000), "big", "a" * 197 + "..."),
        ("exactly_the_limit", 400, _err("x", "ü" * 100), "x", "ü" * 100),
        ("cut_at_a_character", 400, _err("x", "ü" * 101), "x", "ü" * 98 + "..."),
        ("cut_before_an_emoji", 400, _err("x", "🐻" * 60), "x", "🐻" * 49 + "..."),
        (
            "cut_drops_a_trailing_space",
            400,
            _err("x", "a" * 196 + " b" * 10),
            "x",
            "a" * 196 + "...",
        ),
        ("long_code", 400, _err("x" * 100, "m"), "x" * 61 + "...", "m"),
        ("code_with_controls", 400, _err("bad\ncode", "m"), "bad code", "m"),
        (
            "empty_code_quotes_the_body",
            500,
            _err("", "m"),
            "http_500",
            '{"error":{"code":"","message":"m","correlation_id":"c-1"}}',
        ),
        (
            "blank_code_quotes_the_body",
            500,
            _json({"error": {"code": " \n ", "message": "m"}}),
            "http_500",
            '{"error":{"code":" \\n ","message":"m"}}',
        ),
        (
            "code_not_a_string",
            400,
            _json({"error": {"code": 7, "message": "m"}}),
            "http_400",
            '{"error":{"code":7,"message":"m"}}',
        ),
        (
            "message_not_a_string",
            400,
            _json({"error": {"code": "x", "message": ["m"]}}),
            "x",
            "",
        ),
        (
            "spec_body_wins_over_detail",
            404,
            _json({"detail": "d", "error": {"code": "x", "message": "m"}}),
            "x",
            "m",
        ),
        ("flat_error_string", 404, b'{"error":"Not found"}', "http_404", '{"error":"Not found"}'),
        ("detail_not_a_string", 400, b'{"detail":7}', "http_400", '{"detail":7}'),
        ("json_array", 400, b'["a","b"]', "http_400", '["a","b"]'),
        (
            "invalid_utf8_in_a_string",
            400,
            b'{"error":{"code":"x","message":"\xff"}}',
            "http_400",
            '{"error":{"code":"x","message":"?"}}',
        ),
        (
            "nul_escape_is_not_json",
            400,
            b'{"error":{"code":"x","message":"a\\u0000b"}}',
            "http_400",
            '{"error":{"code":"x","message":"a\\u0000b"}}',
        ),
        (
            "escaped_backslash_before_u0000_is_text",
            400,
            b'{"error":{"code":"x","message":"a\\\\u0000b"}}',
            "x",
            "a\\u0000b",
        ),
        (
            "lone_surrogate_is_not_json",
            400,
            b'{"error":{"code":"x","message":"\\ud800"}}',
            "http_400",
            '{"error":{"code":"x","message":"\\ud800"}}',
        ),
        (
            "surrogate_pair_is_one_character",
            400,
            b'{"error":{"code":"x","message":"\\ud83d\\udc3b"}}',
            "x",
            "🐻",
        ),
        (
            "duplicate_keys_are_not_json",
            502,
            b'{"error":{"code":"a"},"error":{"code":"b"}}',
            "http_502",
            '{"error":{"code":"a"},"error":{"code":"b"}}',
        ),
        ("nested_64_deep", 400, _deep(63), "deep", "m"),
        (
            "nested_65_deep_is_not_json",
            400,
            _deep(64),
            "http_400",
            _deep(64).decode(),  # 172 bytes: quoted whole
        ),
        ("huge_body_is_scanned_from_its_start", 500, b"A" * 100_000, "http_500", "A" * 197 + "..."),
        ("nul_byte_ends_the_text", 500, b"abc\x00def", "http_500", "abc"),
        ("overlong_utf8", 500, b"\xc0\x80ok", "http_500", "??ok"),
        ("utf8_surrogate_bytes", 500, b"a\xed\xa0\x80b", "http_500", "a???b"),
        ("above_u10ffff", 500, b"a\xf4\x90\x80\x80b", "http_500", "a????b"),
        (
            "sequence_cut_by_the_scan",
            500,
            b" " * 1020 + "ab€".encode(),
            "http_500",
            "ab??",
        ),
        (
            "raw_utf8_kept",
            403,
            "Zugriff verweigert: Gerät gesperrt".encode(),
            "http_403",
            "Zugriff verweigert: Gerät gesperrt",
        ),
    ]


def _fields() -> list[tuple[str, list[tuple[str, str]], str, str]]:
    """(id, errors, field, message) for bad_fields."""
    many = [(f"device_config.audio.member_{i:02d}", "unsupported_value") for i in range(10)]
    listing = "; ".join(f"{f}: {r}" for f, r in many)
    return [
        ("not_json", [], "", "(body): invalid_json"),
        ("not_an_object", [("", "must_be_object")], "", "(body): must_be_object"),
        ("one_field", [("access_token", "required")], "access_token", "access_token: required"),
        (
            "sorted_by_field",
            [("device_config.websocket_url", "not_url"), ("child_profile.age", "must_be_integer")],
            "child_profile.age",
            "child_profile.age: must_be_integer; device_config.websocket_url: not_url",
        ),
        (
            "same_field_sorted_by_reason",
            [("url", "too_long"), ("url", "not_url")],
            "url",
            "url: not_url; url: too_long",
        ),
        ("many_fields_are_cut", many, many[0][0], listing[:197].rstrip(" ") + "..."),
    ]


def server_answers() -> dict[str, Any]:
    cases: list[Case] = []
    for case_id, status, body, code, message in _errors():
        cases.append(
            {
                "id": case_id,
                "kind": "error",
                "status": status,
                "body": body.hex(),
                "expect": {"code": code, "message": message},
            }
        )
    for case_id, errors, field, message in _fields():
        cases.append(
            {
                "id": case_id,
                "kind": "fields",
                "errors": [{"field": f, "reason": r} for f, r in errors],
                "expect": {"field": field, "message": message},
            }
        )
    return {
        "description": (
            "What a device reports for a server's answer (SPEC §8.2): kind=error gives the "
            "HTTP status and body (hex) of an error answer and the event's code and message; "
            "kind=fields gives the field errors of a 200 body that failed validation and the "
            "event's field and message. Messages hold at most 200 UTF-8 bytes, codes 64."
        ),
        "spec_section": "8.2",
        "cases": cases,
    }
