"""Hand-written golden vector cases: WebSocket frames that must parse.

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


def _valid(case_id: str, direction: str, text: str, kind: str, /, **fields: Any) -> Case:
    return {"id": case_id, "direction": direction, "text": text, "type": kind, "fields": fields}


def messages_valid() -> dict[str, Any]:
    chunk = {"type": "audio_chunk", "audio_data": PCM4_B64, "chunk_id": "1700_4242"}
    d, s = "device", "server"
    cases = [
        _valid("audio_start_bare", d, _j(type="audio_start"), "audio_start", audio_session_id=None),
        _valid(
            "audio_start_id",
            d,
            _j(type="audio_start", audio_session_id="utt-1"),
            "audio_start",
            audio_session_id="utt-1",
        ),
        _valid(
            "audio_chunk",
            d,
            _j(**chunk, audio_session_id="utt-1", is_final=False),
            "audio_chunk",
            pcm_hex="000102ff",
            chunk_id="1700_4242",
            audio_session_id="utt-1",
            is_final=False,
        ),
        _valid(
            "audio_chunk_final",
            d,
            _j(**chunk, audio_session_id="utt-1", is_final=True),
            "audio_chunk",
            is_final=True,
        ),
        _valid(
            "audio_chunk_int_chunk_id",
            d,
            _j(type="audio_chunk", audio_data="", chunk_id=7),
            "audio_chunk",
            chunk_id=7,
            pcm_hex="",
            is_final=False,
        ),
        _valid(
            "audio_chunk_without_session_joins_open_one",
            d,
            _j(**chunk),
            "audio_chunk",
            audio_session_id=None,
        ),
        _valid(
            "audio_chunk_is_final_null",
            d,
            _j(**chunk, is_final=None),
            "audio_chunk",
            is_final=False,
        ),
        _valid(
            "audio_chunk_original_hmac_field_ignored",
            d,
            _j(**chunk, hmac="ab" * 32),
            "audio_chunk",
            pcm_hex="000102ff",
        ),
        _valid(
            "audio_end",
            d,
            _j(type="audio_end", audio_session_id="utt-1"),
            "audio_end",
            audio_session_id="utt-1",
        ),
        _valid(
            "heartbeat_original_firmware",
            d,
            _j(
                type="heartbeat",
                device_id="teddy-esp32-ccdba795baa4",
                timestamp=123456,
                status="alive",
            ),
            "heartbeat",
            fields={
                "device_id": "teddy-esp32-ccdba795baa4",
                "timestamp": 123456,
                "status": "alive",
            },
        ),
        _valid("heartbeat_bare", d, _j(type="heartbeat"), "heartbeat", fields={}),
        _valid(
            "text_message",
            d,
            _j(type="text_message", text="What do dinosaurs eat?"),
            "text_message",
            text="What do dinosaurs eat?",
        ),
        _valid(
            "text_message_unicode",
            d,
            _j(type="text_message", text="مرحبا 🐻"),
            "text_message",
            text="مرحبا 🐻",
        ),
        _valid(
            "text_message_1000_chars", d, _j(type="text_message", text="a" * 1000), "text_message"
        ),
        _valid(
            "system_connection_established",
            s,
            _j(
                type="system",
                data={
                    "type": "connection_established",
                    "session_id": "s-1",
                    "message": "Hello Sam! I'm ready to chat!",
                    "server_time": TS,
                },
                timestamp=TS,
            ),
            "system",
            data_type="connection_established",
        ),
        _valid(
            "system_audio_start_ack",
            s,
            _j(
                type="system",
                data={"type": "audio_start_ack", "audio_session_id": "utt-1", "status": "ready"},
                timestamp=TS,
            ),
            "system",
            data_type="audio_start_ack",
            data={"audio_session_id": "utt-1", "status": "ready"},
        ),
        _valid(
            "system_heartbeat_response",
            s,
            _j(
                type="system",
                data={"type": "heartbeat_response", "session_status": "active"},
                timestamp=TS,
            ),
            "system",
            data_type="heartbeat_response",
        ),
        _valid(
            "system_unknown_data_type_tolerated",
            s,
            _j(type="system", data={"type": "policy_update"}, timestamp=TS),
            "system",
            data_type="policy_update",
            data={},
        ),
        _valid(
            "text_response",
            s,
            _j(
                type="text_response",
                text="Dinosaurs ate plants!",
                transcript="what do dinosaurs eat",
                audio_session_id="utt-1",
                timestamp=TS,
            ),
            "text_response",
            text="Dinosaurs ate plants!",
            transcript="what do dinosaurs eat",
        ),
        _valid(
            "text_response_plain",
            s,
            _j(type="text_response", text="Hi", timestamp="2025-01-01T00:00:00Z"),
            "text_response",
            transcript=None,
            audio_session_id=None,
        ),
        _valid(
            "audio_response_first",
            s,
            _j(
                type="audio_response",
                audio_session_id="utt-1",
                seq=0,
                is_final=False,
                text="Hi!",
                format="pcm_s16le",
                sample_rate=16000,
                channels=1,
                audio_data=PCM4_B64,
                timestamp=TS,
            ),
            "audio_response",
            seq=0,
            text="Hi!",
            pcm_hex="000102ff",
        ),
        _valid(
            "audio_response_last",
            s,
            _j(
                type="audio_response",
                audio_session_id="utt-1",
                seq=3,
                is_final=True,
                format="pcm_s16le",
                sample_rate=16000,
                channels=1,
                audio_data="",
                timestamp=TS,
            ),
            "audio_response",
            seq=3,
            is_final=True,
            text=None,
        ),
        _valid(
            "error",
            s,
            _j(
                type="error",
                error_code="unknown_message_type",
                error_message="unknown message type 'handshake'",
                timestamp=TS,
            ),
            "error",
            error_code="unknown_message_type",
        ),
    ]
    return _file(
        "WebSocket text frames that must parse; 'fields' are expected attributes of the parsed "
        "message (pcm_hex = decoded audio_data as hex).",
        "6.3, 6.4",
        cases,
    )
