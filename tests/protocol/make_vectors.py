"""Write protocol/vectors/*.json (golden vectors, SPEC §10). Not a test module.

Run `.venv/bin/python -m tests.protocol.make_vectors`, review the JSON diff, and
commit only the JSON. Values from original-system.md §8 (OOB, claim HMAC, S15
ETags) are typed in here as anchors, never computed, so the tests check the code
against them; semantic expectations live in vector_specs*.py, written by hand.
Computed values (frame sizes, image bytes) are produced by the code under test.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from protocol.audio import build_audio_response_frames
from protocol.crypto import claim_hmac, derive_oob_secret
from protocol.errors import MessageError
from protocol.etag import compute_etag
from protocol.eventline import EVENT_CATALOGUE
from tests.protocol import (
    vector_specs,
    vector_specs_answers,
    vector_specs_invalid,
    vector_specs_messages,
    vector_specs_text,
)
from tests.protocol.vector_specs_manifests import images, manifests

VECTORS_DIR = Path(__file__).resolve().parents[2] / "protocol" / "vectors"
DEV_BOARD_OOB = "20F98D30602B1F5359C2775CC6BC74389CDE906348676F9B4D89B93151C77182"
NONCE = "00112233445566778899aabbccddeeff"
FRAME_TS = "2025-01-01T00:00:00.000000+00:00"
SOURCE_S8 = "original-system.md section 8"


def _file(description: str, section: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {"description": description, "spec_section": section, "cases": cases}


def oob() -> dict[str, Any]:
    cases: list[dict[str, Any]] = [
        {
            "id": "s8_developer_board",
            "device_id": "Teddy-ESP32-A795BAA4",
            "salt": None,
            "oob_secret": DEV_BOARD_OOB,
            "source": SOURCE_S8,
        },
        {
            "id": "s8_teddy_001",
            "device_id": "Teddy-ESP32-001",
            "salt": None,
            "oob_secret": "16DD1E4997F1B95C1A66FE1484865CDE699E7CCA7ED161B4E821736C281ADAB4",
            "source": SOURCE_S8,
        },
    ]
    computed = [
        ("claimed_id_lower_case", "teddy-esp32-ccdba795baa4", None),
        ("case_is_significant", "TEDDY-ESP32-CCDBA795BAA4", None),
        ("other_prefix", "esp32-a1b2c3d4", None),
        ("custom_salt", "teddy-esp32-000000000000", "test-salt"),
    ]
    for case_id, device_id, salt in computed:
        secret = derive_oob_secret(device_id, salt=salt) if salt else derive_oob_secret(device_id)
        cases.append(
            {
                "id": case_id,
                "device_id": device_id,
                "salt": salt,
                "oob_secret": secret,
                "source": "computed",
            }
        )
    return _file(
        "Seed OOB secret: UPPER(hex(SHA256(hex(SHA256(device_id + ':' + salt)) + salt))); "
        "salt null = ai-teddy-bear-oob-secret-v1.",
        "2.1",
        cases,
    )


def claim_hmacs() -> dict[str, Any]:
    cases: list[dict[str, Any]] = [
        {
            "id": "s8_developer_board",
            "oob_secret": DEV_BOARD_OOB,
            "device_id": "teddy-esp32-ccdba795baa4",
            "child_id": "child-unknown",
            "nonce": NONCE,
            "hmac_hex": "a2761b75faac4df07e02f17b5f11a4a7990b6ce91740e717cd064301acd24656",
            "source": SOURCE_S8,
        },
    ]
    rows = [
        ("own_seed_secret", "teddy-esp32-ccdba795baa4", "child-unknown", NONCE),
        ("device_id_case_kept", "TEDDY-ESP32-CCDBA795BAA4", "child-unknown", NONCE),
        (
            "uuid_child_64_hex_nonce",
            "Teddy-ESP32-A795BAA4",
            "3f2b9c1e-7d4a-4b6e-9a8c-1e2d3f4a5b6c",
            "f0" * 32,
        ),
    ]
    for case_id, device_id, child_id, nonce in rows:
        secret = derive_oob_secret(device_id)
        mac = claim_hmac(
            oob_secret_hex=secret, device_id=device_id, child_id=child_id, nonce_hex=nonce
        )
        cases.append(
            {
                "id": case_id,
                "oob_secret": secret,
                "device_id": device_id,
                "child_id": child_id,
                "nonce": nonce,
                "hmac_hex": mac,
                "source": "computed",
            }
        )
    return _file(
        "Claim HMAC-SHA256: key = bytes(oob_secret), message = device_id || child_id || "
        "bytes(nonce); lower-case hex.",
        "2.2",
        cases,
    )


S15_CONFIG = {
    "host": "ai-tiddy-bear-v.onrender.com",
    "port": 443,
    "ws_path": "/ws/esp32/connect",
    "firmware_endpoint": "/api/v1/esp32/firmware",
    "tls": True,
    "ntp": ["pool.ntp.org", "time.google.com", "time.cloudflare.com", "time.nist.gov"],
    "features": {"ota": True, "strict_tls": True, "audio_streaming": True, "child_safety": True},
    "app_version": "1.3.0",
    "firmware_version": "1.2.1",
}
S15_MANIFEST = {
    "version": "1.2.1",
    "available": True,
    "url": "https://ai-tiddy-bear-v.onrender.com/web/firmware/teddy-001.bin",
    "sha256": "463fd119c22e21d9aab7a3765d269054899a8aebe22f5a1794c103e26ed4fb31",
    "size": 1245328,
    "notes": "Release build with pinned Root CA and size-optimized flags",
    "compatibility": {
        "min_hardware_version": "1.0.0",
        "max_hardware_version": "2.0.0",
        "required_bootloader": "1.1.0",
    },
}
TEDDY_CONFIG = {
    "host": "127.0.0.1",
    "port": 8000,
    "tls": False,
    "ws_path": "/api/v1/esp32/private/chat",
    "firmware_endpoint": "/api/v1/esp32/firmware",
    "ntp": ["pool.ntp.org"],
    "features": {"ota": True, "strict_tls": False, "audio_streaming": True, "child_safety": True},
    "app_version": "0.1.0",
    "firmware_version": "1.0.0",
    "heartbeat_interval": 30,
}


def etags() -> dict[str, Any]:
    cases: list[dict[str, Any]] = [
        {
            "id": "s15_default_config",
            "body": S15_CONFIG,
            "etag": '"d014a83e538aa232"',
            "source": "original-system.md 1.4 body without timestamp; ETag from section 8",
        },
        {
            "id": "s15_default_manifest",
            "body": S15_MANIFEST,
            "etag": '"b34cdd02d473274b"',
            "source": "original-system.md 1.5 body; ETag from section 8",
        },
    ]
    reordered = dict(reversed(list(TEDDY_CONFIG.items())))
    for case_id, body in (
        ("empty_object", {}),
        ("teddy_dev_config", TEDDY_CONFIG),
        ("key_order_irrelevant", reordered),
        ("non_ascii_is_escaped", {"notes": "Grüße 🐻"}),
    ):
        cases.append(
            {"id": case_id, "body": body, "etag": compute_etag(body), "source": "computed"}
        )
    return _file(
        "ETag = '\"' + sha256(json.dumps(body, sort_keys=True)).hexdigest()[:16] + '\"' "
        "(Python default separators, ASCII escapes).",
        "4.2, 5.1",
        cases,
    )


def audio_frames() -> dict[str, Any]:
    rows: list[tuple[str, int, str | None, int]] = [
        ("empty_no_text", 0, None, 0),
        ("empty_with_text", 0, "Hello!", 1),
        ("one_sample", 2, None, 0),
        ("exactly_one_frame", 4096, None, 0),
        ("one_frame_plus_sample", 4098, "Hi", 1),
        ("one_second", 32000, "Dinosaurs ate plants!", 1),
        ("thirty_seconds", 960000, None, 0),
        ("long_text_shrinks_first_frame", 10000, "a", 6000),
        ("text_fills_frame", 10000, "a", 7900),
        ("multibyte_text", 8192, "ü", 3000),
        ("emoji_text", 8192, "🐻", 1500),
        ("escaped_text", 8192, '"', 2000),
        ("text_too_big", 4096, "a", 8000),
    ]
    cases = []
    for case_id, pcm_bytes, unit, count in rows:
        text = None if unit is None else unit * count
        case: dict[str, Any] = {
            "id": case_id,
            "audio_session_id": "utt-0001",
            "timestamp": FRAME_TS,
            "pcm_bytes": pcm_bytes,
            "text_unit": unit,
            "text_count": count,
        }
        try:
            frames = build_audio_response_frames(
                audio_session_id="utt-0001", pcm=bytes(pcm_bytes), text=text, timestamp=FRAME_TS
            )
        except MessageError as exc:
            case["expect"] = {"error": exc.code}
        else:
            sizes = [len(f.encode()) for f in frames]
            pcm_sizes = [len(base64.b64decode(json.loads(f)["audio_data"])) for f in frames]
            assert max(sizes) < 8192 and sum(pcm_sizes) == pcm_bytes
            case["expect"] = {
                "frame_count": len(frames),
                "pcm_sizes": pcm_sizes,
                "frame_bytes": sizes,
            }
        cases.append(case)
    return _file(
        "Downlink audio_response framing of pcm_bytes zero bytes and text = text_unit * "
        "text_count (null = no text): PCM per frame and encoded UTF-8 frame sizes, all < 8192.",
        "7.3",
        cases,
    )


def eventlines() -> dict[str, Any]:
    data = vector_specs_text.eventlines()
    data["catalogue"] = {name: list(fields) for name, fields in EVENT_CATALOGUE.items()}
    data["cases"] = data.pop("cases")  # keep "cases" last for readers
    return data


def main() -> int:
    files: dict[str, dict[str, Any]] = {
        "oob": oob(),
        "claim_hmac": claim_hmacs(),
        "claim_requests": vector_specs.claim_requests(),
        "claim_responses": vector_specs.claim_responses(),
        "etag": etags(),
        "if_none_match": vector_specs.if_none_match(),
        "messages_valid": vector_specs_messages.messages_valid(),
        "messages_invalid": vector_specs_invalid.messages_invalid(),
        "audio_frames": audio_frames(),
        "semver": vector_specs.semver(),
        "manifests": manifests(),
        "images": images(),
        "eventlines": eventlines(),
        "console": vector_specs_text.console(),
        "server_answers": vector_specs_answers.server_answers(),
    }
    VECTORS_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        (VECTORS_DIR / f"{name}.json").write_text(text, encoding="utf-8")
        print(f"wrote {name}.json ({len(content['cases'])} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
