"""Golden vector cases for firmware manifests, update decisions and app images.

Used only by make_vectors.py; not a test module. Expected outcomes are written by
hand; the image bytes are produced by protocol.image.build_app_image (its output
is separately checked against esptool's parser by the tests).
"""

from __future__ import annotations

import hashlib
from typing import Any

from protocol.image import APP_DESC_OFFSET, build_app_image, flip_byte, reseal

Case = dict[str, Any]
SHA = "4f" * 32
BASE: dict[str, Any] = {
    "version": "1.3.0",
    "url": "https://updates.example.com/web/firmware/teddy-1.3.0.bin",
    "sha256": SHA,
    "size": 1245328,
    "mandatory": False,
    "secure_version": 1,
    "chip": "esp32",
    "notes": "Bug fixes",
}


def _file(description: str, section: str, cases: list[Case]) -> dict[str, Any]:
    return {"description": description, "spec_section": section, "cases": cases}


def _m(**changes: Any) -> dict[str, Any]:
    out = dict(BASE, **changes)
    return {k: v for k, v in out.items() if v is not _DROP}


_DROP = object()


def _parse_ok(case_id: str, manifest: dict[str, Any], normalized: dict[str, Any]) -> Case:
    return {
        "id": case_id,
        "kind": "parse",
        "manifest": manifest,
        "expect": {"manifest": normalized},
    }


def _parse_bad(case_id: str, manifest: object, *errors: tuple[str, str]) -> Case:
    expect = {"errors": [{"field": f, "reason": r} for f, r in errors]}
    return {"id": case_id, "kind": "parse", "manifest": manifest, "expect": expect}


def _decide(
    case_id: str,
    manifest: dict[str, Any],
    running: str,
    chip: str,
    secure: int,
    action: str,
    reason: str,
) -> Case:
    return {
        "id": case_id,
        "kind": "decide",
        "manifest": manifest,
        "device": {"running_version": running, "chip": chip, "secure_version": secure},
        "expect": {"action": action, "reason": reason},
    }


def manifests() -> dict[str, Any]:
    s15 = {k: v for k, v in BASE.items() if k not in ("secure_version", "chip")}
    s15.update(available=True, build=1757894400, compatibility={"min_hardware_version": "1.0.0"})
    head = {"version": "1.3.0", "download_url": BASE["url"], "force_update": False, "file_size": 10}
    cases: list[Case] = [
        _parse_ok("valid", _m(), _m()),
        _parse_ok("sha256_upper_case_is_lowered", _m(sha256=SHA.upper()), _m()),
        _parse_ok("extra_fields_ignored", _m(available=True, meta={"x": 1}), _m()),
        _parse_ok(
            "prerelease_loopback_http",
            _m(version="1.4.0-rc.1", url="http://127.0.0.1:8000/web/firmware/t.bin"),
            _m(version="1.4.0-rc.1", url="http://127.0.0.1:8000/web/firmware/t.bin"),
        ),
        _parse_bad("s15_manifest", s15, ("secure_version", "required"), ("chip", "required")),
        _parse_bad(
            "original_firmware_field_names",
            head,
            ("url", "required"),
            ("sha256", "required"),
            ("size", "required"),
            ("mandatory", "required"),
            ("secure_version", "required"),
            ("chip", "required"),
            ("notes", "required"),
        ),
        _parse_bad("version_two_parts", _m(version="1.2"), ("version", "not_semver")),
        _parse_bad("version_32_chars", _m(version="1.0.0-" + "a" * 26), ("version", "too_long")),
        _parse_bad("url_ftp", _m(url="ftp://example.com/a.bin"), ("url", "not_url")),
        _parse_bad("url_relative", _m(url="/web/firmware/a.bin"), ("url", "not_url")),
        _parse_bad("sha256_63", _m(sha256=SHA[:63]), ("sha256", "wrong_length")),
        _parse_bad("sha256_not_hex", _m(sha256="z" * 64), ("sha256", "not_hex")),
        _parse_bad("size_zero", _m(size=0), ("size", "out_of_range")),
        _parse_bad("size_string", _m(size="1245328"), ("size", "must_be_integer")),
        _parse_bad("mandatory_string", _m(mandatory="false"), ("mandatory", "must_be_boolean")),
        _parse_bad(
            "secure_version_negative", _m(secure_version=-1), ("secure_version", "out_of_range")
        ),
        _parse_bad(
            "secure_version_2_pow_32", _m(secure_version=2**32), ("secure_version", "out_of_range")
        ),
        _parse_bad("chip_esp8266", _m(chip="esp8266"), ("chip", "unsupported_value")),
        _parse_bad("notes_missing", _m(notes=_DROP), ("notes", "required")),
        _parse_bad("notes_1025_chars", _m(notes="n" * 1025), ("notes", "too_long")),
        _parse_bad("not_an_object", [BASE], ("", "must_be_object")),
        _decide("newer", _m(), "1.2.0", "esp32", 0, "update", "newer_version"),
        _decide("same", _m(), "1.3.0", "esp32", 0, "skip", "same_version"),
        _decide("older", _m(), "1.4.0", "esp32", 0, "skip", "older_version"),
        _decide(
            "build_metadata_ignored",
            _m(version="1.3.0+b2"),
            "1.3.0+b1",
            "esp32",
            0,
            "skip",
            "same_version",
        ),
        _decide("v_prefix_running", _m(), "v1.3.0", "esp32", 0, "skip", "same_version"),
        _decide("release_after_rc", _m(), "1.3.0-rc.2", "esp32", 0, "update", "newer_version"),
        _decide(
            "rc_after_release",
            _m(version="1.3.0-rc.1"),
            "1.3.0",
            "esp32",
            0,
            "skip",
            "older_version",
        ),
        _decide(
            "defect16_numeric_not_string",
            _m(version="1.10.0"),
            "1.9.0",
            "esp32",
            0,
            "update",
            "newer_version",
        ),
        _decide("wrong_chip", _m(chip="esp32s3"), "1.2.0", "esp32", 0, "skip", "wrong_chip"),
        _decide("wrong_chip_first", _m(chip="esp32s3"), "1.3.0", "esp32", 0, "skip", "wrong_chip"),
        _decide(
            "secure_version_too_low", _m(), "1.2.0", "esp32", 2, "skip", "secure_version_too_low"
        ),
        _decide(
            "secure_version_raised",
            _m(secure_version=3),
            "1.2.0",
            "esp32",
            2,
            "update",
            "newer_version",
        ),
        _decide(
            "mandatory_never_downgrades",
            _m(mandatory=True),
            "1.4.0",
            "esp32",
            0,
            "skip",
            "older_version",
        ),
    ]
    return _file(
        "Firmware manifests: kind=parse gives the normalised manifest or every field error "
        "(order not significant); kind=decide gives the device's update decision.",
        "5.1, 5.4",
        cases,
    )


def _read_case(case_id: str, data: bytes, expect: dict[str, Any], build: Any = None) -> Case:
    case: Case = {"id": case_id, "kind": "read", "image_hex": data.hex(), "expect": expect}
    if build is not None:
        case["build"] = build
    return case


def _manifest_for(data: bytes, version: str, chip: str) -> dict[str, Any]:
    return _m(version=version, chip=chip, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def images() -> dict[str, Any]:
    payload = b"teddy-hil golden image\n"
    b1: dict[str, Any] = {
        "version": "1.3.0",
        "chip": "esp32",
        "secure_version": 1,
        "project_name": "teddy",
        "payload_hex": payload.hex(),
    }
    b2 = dict(b1, chip="esp32s3", secure_version=2, version="2.0.0-rc.1")
    b3 = dict(b1, chip="esp32c6", version="1.2.0", project_name="teddy-c6")
    imgs = {}
    for name, b in (("a", b1), ("b", b2), ("c", b3)):
        args = {k: v for k, v in b.items() if k != "payload_hex"}
        imgs[name] = build_app_image(**args, payload=bytes.fromhex(b["payload_hex"]))
    a = imgs["a"]
    ok_a = {
        "chip": "esp32",
        "chip_id": 0,
        "version": "1.3.0",
        "project_name": "teddy",
        "secure_version": 1,
        "segment_count": 2,
        "length": len(a),
    }
    bad_checksum = reseal(flip_byte(a, APP_DESC_OFFSET + 256))  # a payload byte
    # Flip the descriptor magic and a reserved byte of the same segment: XOR unchanged.
    no_desc = reseal(flip_byte(flip_byte(a, APP_DESC_OFFSET), APP_DESC_OFFSET + 8))
    many_segments = bytearray(a)
    many_segments[1] = 17
    cases: list[Case] = [
        _read_case("valid_esp32", a, ok_a, b1),
        _read_case(
            "valid_esp32s3_prerelease",
            imgs["b"],
            {
                "chip": "esp32s3",
                "chip_id": 9,
                "version": "2.0.0-rc.1",
                "project_name": "teddy",
                "secure_version": 2,
                "segment_count": 2,
                "length": len(imgs["b"]),
            },
            b2,
        ),
        _read_case(
            "valid_esp32c6",
            imgs["c"],
            {
                "chip": "esp32c6",
                "chip_id": 13,
                "version": "1.2.0",
                "project_name": "teddy-c6",
                "secure_version": 1,
                "segment_count": 2,
                "length": len(imgs["c"]),
            },
            b3,
        ),
        _read_case("trailing_padding_ignored", a + b"\xff" * 64, ok_a),
        _read_case("bad_magic", flip_byte(a, 0), {"error": "bad_magic"}),
        _read_case(
            "random_bytes", bytes((i * 37 + 11) % 256 for i in range(512)), {"error": "bad_magic"}
        ),
        _read_case("empty", b"", {"error": "truncated"}),
        _read_case("truncated_header", a[:20], {"error": "truncated"}),
        _read_case("truncated_segment", a[:100], {"error": "truncated"}),
        _read_case("truncated_digest", a[:-1], {"error": "truncated"}),
        _read_case("bad_checksum", bad_checksum, {"error": "bad_checksum"}),
        _read_case("bad_hash", flip_byte(a, -1), {"error": "bad_hash"}),
        _read_case("no_app_descriptor", no_desc, {"error": "bad_magic"}),
        _read_case("segment_count_17", bytes(many_segments), {"error": "bad_magic"}),
    ]
    verify = [
        ("ok", a, _manifest_for(a, "1.3.0", "esp32"), "esp32", 1, {"version": "1.3.0"}),
        (
            "size_mismatch",
            a,
            dict(_manifest_for(a, "1.3.0", "esp32"), size=len(a) + 1),
            "esp32",
            0,
            {"error": "size_mismatch"},
        ),
        (
            "sha256_mismatch",
            a,
            dict(_manifest_for(a, "1.3.0", "esp32"), sha256=SHA),
            "esp32",
            0,
            {"error": "sha256_mismatch"},
        ),
        (
            "checksum_after_sha_ok",
            bad_checksum,
            _manifest_for(bad_checksum, "1.3.0", "esp32"),
            "esp32",
            0,
            {"error": "bad_checksum"},
        ),
        (
            "truncated_after_sha_ok",
            a[:100],
            _manifest_for(a[:100], "1.3.0", "esp32"),
            "esp32",
            0,
            {"error": "truncated"},
        ),
        (
            "image_for_other_chip",
            imgs["b"],
            _manifest_for(imgs["b"], "2.0.0-rc.1", "esp32"),
            "esp32",
            0,
            {"error": "wrong_chip"},
        ),
        (
            "manifest_for_other_chip",
            imgs["b"],
            _manifest_for(imgs["b"], "2.0.0-rc.1", "esp32s3"),
            "esp32",
            0,
            {"error": "wrong_chip"},
        ),
        (
            "secure_version_too_low",
            a,
            _manifest_for(a, "1.3.0", "esp32"),
            "esp32",
            2,
            {"error": "secure_version_too_low"},
        ),
        (
            "defect16_version_mismatch",
            imgs["c"],
            _manifest_for(imgs["c"], "1.2.1", "esp32c6"),
            "esp32c6",
            0,
            {"error": "version_mismatch"},
        ),
    ]
    for case_id, data, manifest, chip, min_sv, expect in verify:
        cases.append(
            {
                "id": f"verify_{case_id}",
                "kind": "verify",
                "image_hex": data.hex(),
                "manifest": manifest,
                "device": {"chip": chip, "min_secure_version": min_sv},
                "expect": expect,
            }
        )
    return _file(
        "ESP32 app images (hex). kind=read: what read_app_image reports or the ImageError reason; "
        "'build' gives build_app_image arguments that reproduce the bytes. kind=verify: "
        "verify_image against a manifest for a device (chip, min_secure_version).",
        "5.3, 5.4",
        cases,
    )
