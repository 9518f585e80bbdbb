"""Hand-written golden vector cases: device event lines and console commands.

Used only by make_vectors.py; not a test module. Expectations are written by hand
(they encode the SPEC's intent); make_vectors.py checks them against the code.
"""

from __future__ import annotations

from typing import Any

Case = dict[str, Any]


def _file(description: str, section: str, cases: list[Case], **extra: Any) -> dict[str, Any]:
    return {"description": description, "spec_section": section, **extra, "cases": cases}


def eventlines() -> dict[str, Any]:
    cases: list[Case] = [
        {
            "id": "boot",
            "line": '@teddy 12 boot {"fw_version":"1.2.0","slot":"ota_0","reset_reason":"poweron",'
            '"device_id":"teddy-esp32-ccdba795baa4"}',
            "expect": {
                "uptime_ms": 12,
                "name": "boot",
                "data": {
                    "fw_version": "1.2.0",
                    "slot": "ota_0",
                    "reset_reason": "poweron",
                    "device_id": "teddy-esp32-ccdba795baa4",
                },
            },
        },
        {
            "id": "empty_object",
            "line": "@teddy 0 wifi.down {}",
            "expect": {"uptime_ms": 0, "name": "wifi.down", "data": {}},
        },
        {
            "id": "crlf_stripped",
            "line": '@teddy 5 ws.close {"code":4008,"reason":"idle_timeout","url":"ws://h/c"}\r\n',
            "expect": {
                "uptime_ms": 5,
                "name": "ws.close",
                "data": {"code": 4008, "reason": "idle_timeout", "url": "ws://h/c"},
            },
        },
        {
            "id": "utf8_text",
            "line": '@teddy 99 text.rx {"text":"Dinosaurs 🦕","transcript":"ما هذا"}',
            "expect": {
                "uptime_ms": 99,
                "name": "text.rx",
                "data": {"text": "Dinosaurs 🦕", "transcript": "ما هذا"},
            },
        },
        {
            "id": "nested_braces_in_string",
            "line": '@teddy 7 error {"code":"x","message":"} {"}',
            "expect": {"uptime_ms": 7, "name": "error", "data": {"code": "x", "message": "} {"}},
        },
        {
            "id": "large_uptime",
            "line": '@teddy 4294967296 state {"from":"idle","to":"listening"}',
            "expect": {
                "uptime_ms": 4294967296,
                "name": "state",
                "data": {"from": "idle", "to": "listening"},
            },
        },
    ]
    for n, line in enumerate(
        [
            "I (123) wifi: connected",
            "",
            "🎤 RECORDING",
            "@teddyx 1 boot {}",
            " @teddy 1 boot {}",
            "[WS] @teddy 1 boot {}",
            "@teddy",
        ]
    ):
        cases.append({"id": f"free_text_{n}", "line": line, "expect": None})
    bad = [
        "@teddy abc boot {}",
        "@teddy 1 Boot {}",
        "@teddy 1 boot",
        "@teddy 1 boot []",
        "@teddy 1 boot {bad}",
        "@teddy 1 boot {} trailing",
        "@teddy -1 boot {}",
        "@teddy 1  boot {}",
        '@teddy 1 boot {"a":1,"a":2}',
        "@teddy 1 .boot {}",
        "@teddy 1 boot. {}",
        "@teddy 1 boot {}{}",
        "@teddy 1 ota..none {}",
        '@teddy 1 boot {"x":NaN}',
        "@teddy  1 boot {}",
        "@teddy 1 boot\t{}",
    ]
    for n, line in enumerate(bad):
        cases.append({"id": f"malformed_{n:02d}", "line": line, "expect": "error"})
    fmt = [
        (
            "format_compact",
            1500,
            "audio.tx.end",
            {"audio_session_id": "u1", "bytes": 32000, "chunks": 8},
            '@teddy 1500 audio.tx.end {"audio_session_id":"u1","bytes":32000,"chunks":8}',
        ),
        (
            "format_unicode_raw",
            3,
            "text.rx",
            {"text": "ü\n", "transcript": ""},
            '@teddy 3 text.rx {"text":"ü\\n","transcript":""}',
        ),
        (
            "format_claim_fail_says_why",  # SPEC §8.4: the server's code and message
            65,
            "claim.fail",
            {
                "status": 404,
                "code": "HTTP_404",
                "attempt": 1,
                "retry_in_ms": 0,
                "message": 'Gerät "x" nicht gefunden',
                "field": "",
            },
            '@teddy 65 claim.fail {"status":404,"code":"HTTP_404","attempt":1,"retry_in_ms":0,'
            '"message":"Gerät \\"x\\" nicht gefunden","field":""}',
        ),
        (
            "format_ws_refused",
            73,
            "ws.refused",
            {"url": "ws://h/c", "status": 404, "reason": "http_404", "message": "Not Found"},
            '@teddy 73 ws.refused {"url":"ws://h/c","status":404,"reason":"http_404",'
            '"message":"Not Found"}',
        ),
        (
            "format_token_refresh_fail",
            93,
            "token.refresh.fail",
            {
                "status": 200,
                "code": "bad_response",
                "next": "retry",
                "retry_in_ms": 100,
                "message": "refresh_token: required",
                "field": "refresh_token",
            },
            '@teddy 93 token.refresh.fail {"status":200,"code":"bad_response","next":"retry",'
            '"retry_in_ms":100,"message":"refresh_token: required","field":"refresh_token"}',
        ),
    ]
    for case_id, uptime, name, data, line in fmt:
        cases.append(
            {
                "id": case_id,
                "kind": "format",
                "uptime_ms": uptime,
                "name": name,
                "data": data,
                "line": line,
            }
        )
    return _file(
        "Device event lines: 'expect' is the parsed event, null for free text, \"error\" for a "
        "malformed line starting with '@teddy '. kind=format cases give the exact line to print. "
        "'catalogue' maps each known event to the fields it must carry.",
        "8",
        cases,
    )


def console() -> dict[str, Any]:
    ok: list[tuple[str, str, str, list[str], str | None, str]] = [
        ("talk_clip", "talk hello_01", "talk", ["hello_01"], None, "talk hello_01"),
        (
            "talk_clip_path",
            "talk clips/en/dino.wav",
            "talk",
            ["clips/en/dino.wav"],
            None,
            "talk clips/en/dino.wav",
        ),
        ("talk_phrase", 'talk "hello there"', "talk", [], "hello there", 'talk "hello there"'),
        ("talk_phrase_one_word", 'talk "hello"', "talk", [], "hello", 'talk "hello"'),
        ("talk_single_quotes", "talk 'hi there'", "talk", [], "hi there", 'talk "hi there"'),
        (
            "talk_escaped_quote",
            'talk "say \\"hi\\""',
            "talk",
            [],
            'say "hi"',
            'talk "say \\"hi\\""',
        ),
        (
            "text_rest_of_line",
            "text what is a dinosaur?",
            "text",
            ["what is a dinosaur?"],
            None,
            "text what is a dinosaur?",
        ),
        ("text_apostrophe", "text I'm happy", "text", ["I'm happy"], None, "text I'm happy"),
        ("button_press", "button press", "button", ["press"], None, "button press"),
        ("button_release", "button release", "button", ["release"], None, "button release"),
        ("ota_check", "ota check", "ota", ["check"], None, "ota check"),
        ("reboot", "reboot", "reboot", [], None, "reboot"),
        ("set_age", "set child_age 7", "set", ["child_age", "7"], None, "set child_age 7"),
        (
            "set_age_out_of_coppa_range",
            "set child_age 2",
            "set",
            ["child_age", "2"],
            None,
            "set child_age 2",
        ),
        (
            "set_name_quoted",
            'set child_name "Sam Lee"',
            "set",
            ["child_name", "Sam Lee"],
            None,
            'set child_name "Sam Lee"',
        ),
        (
            "set_server",
            "set server ws://127.0.0.1:8000",
            "set",
            ["server", "ws://127.0.0.1:8000"],
            None,
            "set server ws://127.0.0.1:8000",
        ),
        ("set_volume", "set volume 100", "set", ["volume", "100"], None, "set volume 100"),
        (
            "set_child_id",
            "set child_id child-42",
            "set",
            ["child_id", "child-42"],
            None,
            "set child_id child-42",
        ),
        ("get", "get child_age", "get", ["child_age"], None, "get child_age"),
        ("status_padded_crlf", "  status  \r\n", "status", [], None, "status"),
        ("wifi_up", "wifi up", "wifi", ["up"], None, "wifi up"),
        ("wifi_down", "wifi down", "wifi", ["down"], None, "wifi down"),
        ("claim", "claim", "claim", [], None, "claim"),
        ("factory_reset", "factory-reset", "factory-reset", [], None, "factory-reset"),
        ("help", "help", "help", [], None, "help"),
        ("quirk_list", "quirk", "quirk", [], None, "quirk"),
        (
            "quirk_on",
            "quirk on reuse_nonce",
            "quirk",
            ["on", "reuse_nonce"],
            None,
            "quirk on reuse_nonce",
        ),
        (
            "quirk_on_with_value",
            "quirk on present_token eyJhbGciOiJub25lIn0.e30.",
            "quirk",
            ["on", "present_token", "eyJhbGciOiJub25lIn0.e30."],
            None,
            "quirk on present_token eyJhbGciOiJub25lIn0.e30.",
        ),
        (
            "quirk_on_quoted_value",
            "quirk on present_token 'a b'",
            "quirk",
            ["on", "present_token", "a b"],
            None,
            'quirk on present_token "a b"',
        ),
        (
            "quirk_off",
            "quirk off ignore_etag",
            "quirk",
            ["off", "ignore_etag"],
            None,
            "quirk off ignore_etag",
        ),
    ]
    cases: list[Case] = [
        {"id": i, "line": line, "expect": {"name": n, "args": a, "phrase": p}, "canonical": canon}
        for i, line, n, a, p, canon in ok
    ]
    bad = [
        ("empty", "", "empty"),
        ("blank", "   ", "empty"),
        ("unknown", "dance", "unknown_command"),
        ("upper_case", "STATUS", "unknown_command"),
        ("talk_bare", "talk", "missing_argument"),
        ("talk_unterminated", 'talk "hello', "bad_quoting"),
        ("talk_two_phrases", 'talk "a" "b"', "extra_argument"),
        ("talk_unquoted_words", "talk hello world", "bad_argument"),
        ("talk_empty_phrase", 'talk ""', "bad_argument"),
        ("button_bare", "button", "missing_argument"),
        ("button_hold", "button hold", "bad_argument"),
        ("button_extra", "button press now", "extra_argument"),
        ("ota_bare", "ota", "missing_argument"),
        ("ota_apply", "ota apply", "bad_argument"),
        ("reboot_now", "reboot now", "extra_argument"),
        ("set_bare", "set", "missing_argument"),
        ("set_key_only", "set volume", "missing_argument"),
        ("set_unknown_key", "set colour red", "unknown_key"),
        ("set_age_word", "set child_age seven", "bad_value"),
        ("set_volume_101", "set volume 101", "bad_value"),
        ("set_name_unquoted", "set child_name Sam Lee", "extra_argument"),
        ("set_child_id_space", "set child_id 'bad id'", "bad_value"),
        ("get_bare", "get", "missing_argument"),
        ("get_unknown", "get password", "unknown_key"),
        ("text_bare", "text", "missing_argument"),
        ("wifi_sideways", "wifi sideways", "bad_argument"),
        ("quirk_on_bare", "quirk on", "missing_argument"),
        ("quirk_unknown", "quirk on nope", "bad_argument"),
        ("quirk_toggle", "quirk toggle reuse_nonce", "bad_argument"),
        ("quirk_value_missing", "quirk on present_token", "missing_argument"),
        ("quirk_value_extra", "quirk on reuse_nonce yes", "extra_argument"),
        ("quirk_off_value", "quirk off present_token abc", "extra_argument"),
        ("quirk_unterminated", 'quirk on present_token "abc', "bad_quoting"),
    ]
    cases += [{"id": i, "line": line, "expect": {"error": r}} for i, line, r in bad]
    return _file(
        "Console command lines: 'expect' is the parsed command (or the CommandError reason); "
        "'canonical' is format_command of the parsed command.",
        "9",
        cases,
    )
