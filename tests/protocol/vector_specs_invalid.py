"""Hand-written golden vector cases: WebSocket frames that must be refused.

Used only by make_vectors.py; not a test module. Expectations are written by hand
(they encode the SPEC's intent); make_vectors.py checks them against the code.
"""

from __future__ import annotations

import json
from typing import Any

Case = dict[str, Any]
TS = "2025-01-01T00:00:00+00:00"
PCM4_B64 = "AAEC/w=="  # bytes 00 01 02 ff


def _j(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def _file(description: str, section: str, cases: list[Case], **extra: Any) -> dict[str, Any]:
    return {"description": description, "spec_section": section, **extra, "cases": cases}


def _invalid(case_id: str, direction: str, text: str, code: str, field: str | None = None) -> Case:
    return {"id": case_id, "direction": direction, "text": text, "error_code": code, "field": field}


def messages_invalid() -> dict[str, Any]:
    chunk = {"type": "audio_chunk", "audio_data": PCM4_B64, "chunk_id": "c1"}
    ar = {
        "type": "audio_response",
        "audio_session_id": "u",
        "seq": 0,
        "is_final": True,
        "format": "pcm_s16le",
        "sample_rate": 16000,
        "channels": 1,
        "audio_data": "",
        "timestamp": TS,
    }
    d, s, bad = "device", "server", "invalid_message"
    cases = [
        _invalid("not_json", d, "{", "invalid_json"),
        _invalid("trailing_garbage", d, '{"type":"heartbeat"} x', "invalid_json"),
        _invalid("array", d, "[]", "invalid_json"),
        _invalid("string", d, '"audio_start"', "invalid_json"),
        _invalid("nan", d, '{"type":"heartbeat","x":NaN}', "invalid_json"),
        _invalid("duplicate_keys", d, '{"type":"heartbeat","type":"text_message"}', "invalid_json"),
        _invalid("missing_type", d, "{}", bad, "type"),
        _invalid("type_not_string", d, '{"type":1}', bad, "type"),
        _invalid(
            "original_handshake",
            d,
            _j(type="handshake", device_id="x"),
            "unknown_message_type",
            "type",
        ),
        _invalid(
            "original_auth_refresh",
            d,
            _j(type="auth/refresh", proof="abcd"),
            "unknown_message_type",
            "type",
        ),
        _invalid(
            "server_type_from_device", d, _j(type="audio_response"), "unknown_message_type", "type"
        ),
        _invalid(
            "chunk_missing_audio_data", d, _j(type="audio_chunk", chunk_id="c1"), bad, "audio_data"
        ),
        _invalid(
            "chunk_audio_data_not_string",
            d,
            _j(**dict(chunk, audio_data=[1, 2])),
            bad,
            "audio_data",
        ),
        _invalid(
            "chunk_missing_chunk_id",
            d,
            _j(type="audio_chunk", audio_data=PCM4_B64),
            bad,
            "chunk_id",
        ),
        _invalid("chunk_id_negative", d, _j(**dict(chunk, chunk_id=-1)), bad, "chunk_id"),
        _invalid("chunk_id_empty", d, _j(**dict(chunk, chunk_id="")), bad, "chunk_id"),
        _invalid("chunk_id_bool", d, _j(**dict(chunk, chunk_id=True)), bad, "chunk_id"),
        _invalid("chunk_is_final_string", d, _j(**chunk, is_final="true"), bad, "is_final"),
        _invalid(
            "chunk_session_id_65",
            d,
            _j(**chunk, audio_session_id="u" * 65),
            bad,
            "audio_session_id",
        ),
        _invalid(
            "chunk_session_id_bad_chars",
            d,
            _j(**chunk, audio_session_id="a b"),
            bad,
            "audio_session_id",
        ),
        _invalid("chunk_bad_base64", d, _j(**dict(chunk, audio_data="!!!!")), "invalid_audio_data"),
        _invalid("chunk_odd_bytes", d, _j(**dict(chunk, audio_data="AA==")), "invalid_audio_data"),
        _invalid(
            "chunk_missing_padding", d, _j(**dict(chunk, audio_data="AAA")), "invalid_audio_data"
        ),
        _invalid(
            "chunk_whitespace", d, _j(**dict(chunk, audio_data="AAAA AAAA")), "invalid_audio_data"
        ),
        _invalid(
            "chunk_urlsafe_alphabet",
            d,
            _j(**dict(chunk, audio_data="AAEC_w==")),
            "invalid_audio_data",
        ),
        _invalid(
            "chunk_non_canonical_bits",
            d,
            _j(**dict(chunk, audio_data="AAB=")),
            "invalid_audio_data",
        ),
        _invalid("audio_end_missing_id", d, _j(type="audio_end"), bad, "audio_session_id"),
        _invalid(
            "audio_start_id_not_string",
            d,
            _j(type="audio_start", audio_session_id=5),
            bad,
            "audio_session_id",
        ),
        _invalid("text_empty", d, _j(type="text_message", text=""), "empty_text", "text"),
        _invalid("text_whitespace", d, _j(type="text_message", text="  \n "), "empty_text", "text"),
        _invalid("text_1001_chars", d, _j(type="text_message", text="a" * 1001), bad, "text"),
        _invalid("text_missing", d, _j(type="text_message"), bad, "text"),
        _invalid("text_not_string", d, _j(type="text_message", text=42), bad, "text"),
        _invalid(
            "server_missing_timestamp", s, _j(type="text_response", text="hi"), bad, "timestamp"
        ),
        _invalid(
            "server_bad_timestamp",
            s,
            _j(type="text_response", text="hi", timestamp="yesterday"),
            bad,
            "timestamp",
        ),
        _invalid(
            "server_unknown_type_pong",
            s,
            _j(type="pong", timestamp=TS),
            "unknown_message_type",
            "type",
        ),
        _invalid("system_missing_data", s, _j(type="system", timestamp=TS), bad, "data"),
        _invalid(
            "system_data_without_type",
            s,
            _j(type="system", data={}, timestamp=TS),
            bad,
            "data.type",
        ),
        _invalid(
            "system_ack_missing_session",
            s,
            _j(type="system", data={"type": "audio_start_ack", "status": "ready"}, timestamp=TS),
            bad,
            "data.audio_session_id",
        ),
        _invalid(
            "audio_response_text_on_seq_1", s, _j(**dict(ar, seq=1, text="late")), bad, "text"
        ),
        _invalid("audio_response_original_mp3", s, _j(**dict(ar, format="mp3")), bad, "format"),
        _invalid(
            "audio_response_original_22050",
            s,
            _j(**dict(ar, sample_rate=22050)),
            bad,
            "sample_rate",
        ),
        _invalid(
            "audio_response_original_params_wrapper",
            s,
            _j(type="audio_response", params={}, timestamp=TS),
            bad,
            "audio_session_id",
        ),
        _invalid("audio_response_seq_negative", s, _j(**dict(ar, seq=-1)), bad, "seq"),
        _invalid(
            "audio_response_missing_is_final",
            s,
            _j(**{k: v for k, v in ar.items() if k != "is_final"}),
            bad,
            "is_final",
        ),
        _invalid(
            "audio_response_odd_bytes", s, _j(**dict(ar, audio_data="AA==")), "invalid_audio_data"
        ),
        _invalid(
            "error_code_not_snake_case",
            s,
            _j(type="error", error_code="HTTP_500", error_message="x", timestamp=TS),
            bad,
            "error_code",
        ),
    ]
    cases.append(
        dict(
            _invalid(
                "too_large_for_limit", d, _j(type="heartbeat", pad="x" * 40), "message_too_large"
            ),
            max_bytes=48,
        )
    )
    return _file(
        "WebSocket text frames that must be refused, with the SPEC 6.3 error_code and the field "
        "the error names (null when none). 'max_bytes' overrides the frame limit.",
        "6.3, 6.4, 7.3",
        cases,
    )
