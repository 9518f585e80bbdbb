"""Hand-written golden vector cases (expectations written by a person, not computed).

Used only by make_vectors.py to write protocol/vectors/*.json; not a test module.
Each builder returns the file's full JSON object.
"""

from __future__ import annotations

import itertools
from typing import Any

Case = dict[str, Any]

HMAC = "a2761b75faac4df07e02f17b5f11a4a7990b6ce91740e717cd064301acd24656"
NONCE = "00112233445566778899aabbccddeeff"
TS = "2025-01-01T00:00:00+00:00"


def _file(description: str, section: str, cases: list[Case], **extra: Any) -> dict[str, Any]:
    return {"description": description, "spec_section": section, **extra, "cases": cases}


_DROP = object()


def _claim_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "device_id": "teddy-esp32-ccdba795baa4",
        "child_id": "child-unknown",
        "nonce": NONCE,
        "hmac_hex": HMAC,
    }
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key)
        else:
            body[key] = value
    return body


def _bad(case_id: str, body: object, *errors: tuple[str, str], status: Any = 422) -> Case:
    expect = {"status": status, "errors": [{"field": f, "reason": r} for f, r in errors]}
    return {"id": case_id, "body": body, "expect": expect}


def _ok(case_id: str, body: dict[str, Any], normalized: dict[str, Any] | None = None) -> Case:
    return {
        "id": case_id,
        "body": body,
        "expect": {"status": "valid", "request": normalized or body},
    }


def claim_requests() -> dict[str, Any]:
    upper = _claim_body(nonce=NONCE.upper(), hmac_hex=HMAC.upper())
    cases = [
        _ok("valid_minimal", _claim_body()),
        _ok("valid_full", _claim_body(firmware_version="1.3.0-rc.1+build.7", timestamp=1735689600)),
        _ok("valid_hex_upper_case_is_lowered", upper, _claim_body()),
        _ok("valid_nonce_64_hex", _claim_body(nonce="ab" * 32)),
        _ok("valid_id_case_kept", _claim_body(device_id="Teddy-ESP32-A795BAA4")),
        _ok("valid_extra_field_ignored", _claim_body(pairing_code="x"), _claim_body()),
        _ok(
            "valid_null_optionals",
            _claim_body(firmware_version=None, timestamp=None),
            _claim_body(),
        ),
        _bad("device_id_missing", _claim_body(device_id=_DROP), ("device_id", "required")),
        _bad(
            "device_id_not_string", _claim_body(device_id=12345678), ("device_id", "must_be_string")
        ),
        _bad("device_id_null", _claim_body(device_id=None), ("device_id", "must_be_string")),
        _bad("device_id_7_chars", _claim_body(device_id="abcdefg"), ("device_id", "too_short")),
        _bad("device_id_65_chars", _claim_body(device_id="a" * 65), ("device_id", "too_long")),
        _bad(
            "device_id_bad_chars",
            _claim_body(device_id="teddy esp32!"),
            ("device_id", "invalid_characters"),
        ),
        _bad(
            "device_id_colon",
            _claim_body(device_id="teddy:esp32:01"),
            ("device_id", "invalid_characters"),
        ),
        _bad("child_id_empty", _claim_body(child_id=""), ("child_id", "too_short")),
        _bad("child_id_65_chars", _claim_body(child_id="c" * 65), ("child_id", "too_long")),
        _bad("child_id_unicode", _claim_body(child_id="سارة"), ("child_id", "invalid_characters")),
        _bad(
            "nonce_16_hex_original_minimum",
            _claim_body(nonce="0011223344556677"),
            ("nonce", "too_short"),
        ),
        _bad("nonce_66_hex", _claim_body(nonce="ab" * 33), ("nonce", "too_long")),
        _bad("nonce_odd_length", _claim_body(nonce=NONCE + "a"), ("nonce", "odd_length")),
        _bad("nonce_not_hex", _claim_body(nonce="zz" * 16), ("nonce", "not_hex")),
        _bad("nonce_decimal_int", _claim_body(nonce=1234567890), ("nonce", "must_be_string")),
        _bad("hmac_63_hex", _claim_body(hmac_hex=HMAC[:63]), ("hmac_hex", "wrong_length")),
        _bad("hmac_65_hex", _claim_body(hmac_hex=HMAC + "0"), ("hmac_hex", "wrong_length")),
        _bad("hmac_not_hex", _claim_body(hmac_hex="g" * 64), ("hmac_hex", "not_hex")),
        _bad(
            "firmware_version_33_chars",
            _claim_body(firmware_version="1" * 33),
            ("firmware_version", "too_long"),
        ),
        _bad(
            "firmware_version_space",
            _claim_body(firmware_version="1.0 beta"),
            ("firmware_version", "invalid_characters"),
        ),
        _bad(
            "firmware_version_empty",
            _claim_body(firmware_version=""),
            ("firmware_version", "too_short"),
        ),
        _bad(
            "timestamp_string",
            _claim_body(timestamp="1735689600"),
            ("timestamp", "must_be_integer"),
        ),
        _bad(
            "timestamp_float", _claim_body(timestamp=1735689600.5), ("timestamp", "must_be_integer")
        ),
        _bad("timestamp_bool", _claim_body(timestamp=True), ("timestamp", "must_be_integer")),
        _bad("timestamp_negative", _claim_body(timestamp=-1), ("timestamp", "out_of_range")),
        _bad(
            "empty_object",
            {},
            ("device_id", "required"),
            ("child_id", "required"),
            ("nonce", "required"),
            ("hmac_hex", "required"),
        ),
        _bad(
            "every_field_wrong",
            {"device_id": "x", "child_id": "a b", "nonce": "xyz", "hmac_hex": 1, "timestamp": "t"},
            ("device_id", "too_short"),
            ("child_id", "invalid_characters"),
            ("nonce", "not_hex"),
            ("hmac_hex", "must_be_string"),
            ("timestamp", "must_be_integer"),
        ),
    ]
    for case_id, body in (("body_array", []), ("body_string", "claim"), ("body_null", None)):
        cases.append(
            {"id": case_id, "body": body, "expect": {"status": 400, "code": "malformed_json"}}
        )
    return _file(
        "POST /api/v1/pair/claim bodies: valid ones with the normalised request, invalid ones "
        "with the status and every field error (order not significant).",
        "2.3",
        cases,
    )


def _claim_response(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig",
        "refresh_token": "eyJhbGciOiJIUzI1NiJ9.e30.ref",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_expires_in": 604800,
        "device_session_id": "0b7f2d8e-4a64-4f5c-9b8e-2f1d7c3a9e10",
        "child_profile": {"id": "child-unknown", "name": "Friend", "age": 7, "language": "en"},
        "device_config": {
            "websocket_url": "ws://127.0.0.1:8000/api/v1/esp32/private/chat",
            "heartbeat_interval": 30,
            "max_message_size": 16384,
            "audio": {
                "format": "pcm_s16le",
                "sample_rate": 16000,
                "channels": 1,
                "chunk_bytes": 4096,
            },
        },
    }
    body.update(changes)
    return body


def claim_responses() -> dict[str, Any]:
    cfg = _claim_response()["device_config"]
    head_config = {k: v for k, v in cfg.items() if k != "audio"}
    head_config["websocket_url"] = "wss://0.0.0.0/ws/esp32/connect"
    mp3 = dict(cfg, audio=dict(cfg["audio"], format="mp3", sample_rate=22050))
    cases = [
        {"id": "valid", "body": _claim_response(), "expect": {"status": "valid"}},
        {
            "id": "valid_extra_fields",
            "body": _claim_response(pairing_code="ab" * 16),
            "expect": {"status": "valid"},
        },
        _bad(
            "original_head_shape",
            {
                k: v
                for k, v in _claim_response(device_config=head_config).items()
                if k != "refresh_expires_in"
            },
            ("refresh_expires_in", "required"),
            ("device_config.audio", "required"),
            status="invalid",
        ),
        _bad(
            "token_type_lower",
            _claim_response(token_type="bearer"),
            ("token_type", "unsupported_value"),
            status="invalid",
        ),
        {
            "id": "age_14_accepted_refused_later_at_handshake",
            "body": _claim_response(
                child_profile={"id": "c1", "name": "Sam", "age": 14, "language": "en"}
            ),
            "expect": {"status": "valid"},
        },
        _bad(
            "age_string_name_31_chars",
            _claim_response(
                child_profile={"id": "c1", "name": "N" * 31, "age": "7", "language": "en"}
            ),
            ("child_profile.name", "too_long"),
            ("child_profile.age", "must_be_integer"),
            status="invalid",
        ),
        _bad(
            "relative_websocket_url",
            _claim_response(device_config=dict(cfg, websocket_url="/ws/esp32/connect")),
            ("device_config.websocket_url", "not_url"),
            status="invalid",
        ),
        _bad(
            "mp3_audio",
            _claim_response(device_config=mp3),
            ("device_config.audio.format", "unsupported_value"),
            ("device_config.audio.sample_rate", "unsupported_value"),
            status="invalid",
        ),
    ]
    return _file("Claim 200 bodies as a device parses them (strict).", "2.5", cases)


def if_none_match() -> dict[str, Any]:
    tag = '"d014a83e538aa232"'
    rows: list[tuple[str, str | None, str, bool, list[str] | str | None]] = [
        ("absent", None, tag, False, None),
        ("exact", tag, tag, True, [tag]),
        ("different", '"0000000000000000"', tag, False, ['"0000000000000000"']),
        ("weak_prefix_ignored", "W/" + tag, tag, True, ["W/" + tag]),
        ("list_with_spaces", '"a", ' + tag, tag, True, ['"a"', tag]),
        ("list_without_spaces", '"a",' + tag, tag, True, ['"a"', tag]),
        ("list_with_tabs", '\t"a"\t,\t' + tag + "\t", tag, True, ['"a"', tag]),
        ("list_no_match", '"a", W/"b"', tag, False, ['"a"', 'W/"b"']),
        ("star", "*", tag, True, "*"),
        ("star_with_spaces", "  *  ", tag, True, "*"),
        ("star_inside_list_is_malformed", '*, "a"', tag, False, ['"a"']),
        ("unquoted_is_malformed", "d014a83e538aa232", tag, False, []),
        ("malformed_member_skipped", "garbage, " + tag, tag, True, [tag]),
        ("junk_after_tag_skipped", tag + 'x, "b"', '"b"', True, ['"b"']),
        ("unterminated_quote", '"d014a83e538aa232', tag, False, []),
        ("comma_inside_tag", '"a,b"', '"a,b"', True, ['"a,b"']),
        ("lower_case_w_is_malformed", "w/" + tag, tag, False, []),
        ("space_inside_tag_is_malformed", '"a b"', '"a b"', False, []),
        ("empty_header", "", tag, False, []),
        ("only_commas", " , ,, ", tag, False, []),
        ("empty_tag", '""', '""', True, ['""']),
        ("weak_server_tag", tag, "W/" + tag, True, [tag]),
    ]
    cases = [{"id": i, "header": h, "etag": e, "matches": m, "parsed": p} for i, h, e, m, p in rows]
    return _file(
        "If-None-Match evaluation: weak comparison, lists, '*', malformed members ignored; "
        "'parsed' is the member list (null when the header is absent).",
        "4.2",
        cases,
    )


def semver() -> dict[str, Any]:
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.2.0",
        "1.2.1",
        "1.9.0",
        "1.10.0",
        "2.0.0",
    ]
    cases: list[Case] = [
        {"id": f"order_{a}_lt_{b}", "kind": "compare", "a": a, "b": b, "expect": -1}
        for a, b in itertools.pairwise(chain)
    ]
    extra = [
        ("build_ignored", "1.0.0+a", "1.0.0+b", 0),
        ("v_prefix_equal", "v1.2.0", "1.2.0", 0),
        ("numeric_before_alpha", "1.0.0-1", "1.0.0-a", -1),
        ("numeric_prerelease_numeric_order", "1.0.0-alpha.10", "1.0.0-alpha.9", 1),
        ("ascii_order_upper_before_lower", "1.0.0-B", "1.0.0-a", -1),
        ("hyphen_prerelease", "1.0.0-x-y", "1.0.0-x", 1),
        ("greater", "2.1.1", "2.1.0", 1),
    ]
    cases += [{"id": i, "kind": "compare", "a": a, "b": b, "expect": e} for i, a, b, e in extra]
    parsed = [
        ("full", "1.2.3-rc.1+build.5", [1, 2, 3, ["rc", 1], ["build", "5"]]),
        ("v_prefix", "v0.0.1", [0, 0, 1, [], []]),
        ("original_production_tag", "1.0.0-production", [1, 0, 0, ["production"], []]),
        ("build_leading_zero_ok", "1.0.0+001", [1, 0, 0, [], ["001"]]),
    ]
    for case_id, text, (ma, mi, pa, pre, build) in parsed:
        expect = {"major": ma, "minor": mi, "patch": pa, "prerelease": pre, "build": build}
        cases.append({"id": f"parse_{case_id}", "kind": "parse", "input": text, "expect": expect})
    invalid = [
        "",
        "1.2",
        "1.2.3.4",
        "01.2.3",
        "1.02.3",
        "1.2.03",
        "1.2.3-",
        "1.2.3-01",
        "1.2.3+",
        "V1.2.3",
        " 1.2.3",
        "1.2.3 ",
        "1.2.3-rc..1",
        "vv1.2.3",
        "1.2.3-rc_1",
        "\u0661.\u0662.\u0663",  # Arabic-Indic digits
        "latest",
    ]
    for n, text in enumerate(invalid):
        cases.append({"id": f"invalid_{n:02d}", "kind": "invalid", "input": text})
    return _file(
        "SemVer 2.0.0 precedence (expect = sign of a compared to b), parsing, invalid strings.",
        "5.4",
        cases,
    )
