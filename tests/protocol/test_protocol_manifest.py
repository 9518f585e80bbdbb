"""protocol.manifest: manifest parsing, update decisions, image verification (SPEC §5.1, §5.4)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ImageError, SemverError, ValidationError
from protocol.image import HEADER_PEEK_LEN, build_app_image
from protocol.manifest import (
    FirmwareManifest,
    ImageInfo,
    ImageVerifier,
    UpdateDecision,
    decide_update,
    verify_image,
)
from protocol.semver import parse_version
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

MANIFESTS = vector_cases("manifests")
PARSES = [c for c in MANIFESTS if c["kind"] == "parse"]
DECIDES = [c for c in MANIFESTS if c["kind"] == "decide"]
VERIFIES = [c for c in vector_cases("images") if c["kind"] == "verify"]


@pytest.mark.parametrize("case", PARSES, ids=[c["id"] for c in PARSES])
def test_parse_vector(case: dict[str, Any]) -> None:
    if "manifest" in case["expect"]:
        parsed = FirmwareManifest.from_json(case["manifest"])
        assert parsed.to_json() == case["expect"]["manifest"]
        assert FirmwareManifest.from_json(parsed.to_json()) == parsed
        return
    with pytest.raises(ValidationError) as info:
        FirmwareManifest.from_json(case["manifest"])
    got = {(e.field, e.reason) for e in info.value.errors}
    assert got == {(e["field"], e["reason"]) for e in case["expect"]["errors"]}


@pytest.mark.parametrize("case", DECIDES, ids=[c["id"] for c in DECIDES])
def test_decide_vector(case: dict[str, Any]) -> None:
    manifest = FirmwareManifest.from_json(case["manifest"])
    device = case["device"]
    decision = decide_update(
        manifest,
        running_version=device["running_version"],
        chip=device["chip"],
        secure_version=device["secure_version"],
    )
    assert decision == UpdateDecision(case["expect"]["action"], case["expect"]["reason"])
    parsed = parse_version(device["running_version"])
    again = decide_update(
        manifest,
        running_version=parsed,
        chip=device["chip"],
        secure_version=device["secure_version"],
    )
    assert again == decision


def _verify(case: dict[str, Any]) -> ImageInfo:
    return verify_image(
        bytes.fromhex(case["image_hex"]),
        FirmwareManifest.from_json(case["manifest"]),
        chip=case["device"]["chip"],
        min_secure_version=case["device"]["min_secure_version"],
    )


@pytest.mark.parametrize("case", VERIFIES, ids=[c["id"] for c in VERIFIES])
def test_verify_vector(case: dict[str, Any]) -> None:
    if "error" in case["expect"]:
        with pytest.raises(ImageError) as info:
            _verify(case)
        assert info.value.reason == case["expect"]["error"]
    else:
        assert _verify(case).version == case["expect"]["version"]


def _release(
    version: str = "1.3.0", chip: str = "esp32", sv: int = 1
) -> tuple[bytes, FirmwareManifest]:
    data = build_app_image(version=version, chip=chip, secure_version=sv, payload=bytes(5000))
    manifest = FirmwareManifest(
        version=version,
        url="http://127.0.0.1:8000/web/firmware/teddy.bin",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mandatory=False,
        secure_version=sv,
        chip=chip,
    )
    return data, manifest


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=30))
def test_streaming_verifier_matches_verify_image(cuts: list[int]) -> None:
    data, manifest = _release()
    verifier = ImageVerifier(manifest, chip="esp32", min_secure_version=1)
    pos = 0
    for cut in cuts:
        verifier.feed(data[pos : pos + cut])
        pos += cut
    verifier.feed(data[pos:])
    expected = verify_image(data, manifest, chip="esp32", min_secure_version=1)
    assert verifier.finish() == expected
    assert verifier.finish(data) == expected


def test_streaming_verifier_fails_early_on_wrong_chip() -> None:
    data, manifest = _release(chip="esp32s3")
    verifier = ImageVerifier(manifest, chip="esp32", min_secure_version=0)
    verifier.feed(data[: HEADER_PEEK_LEN - 1])
    with pytest.raises(ImageError, match="wrong_chip"):
        verifier.feed(data[HEADER_PEEK_LEN - 1 : HEADER_PEEK_LEN])


def test_streaming_verifier_fails_early_on_rollback_and_version() -> None:
    data, manifest = _release(sv=1)
    with pytest.raises(ImageError, match="secure_version_too_low"):
        ImageVerifier(manifest, chip="esp32", min_secure_version=2).feed(data)
    other = dataclasses.replace(manifest, version="1.3.1")
    with pytest.raises(ImageError, match="version_mismatch"):
        ImageVerifier(other, chip="esp32", min_secure_version=0).feed(data)


def test_streaming_verifier_size_and_hash() -> None:
    data, manifest = _release()
    verifier = ImageVerifier(manifest, chip="esp32", min_secure_version=0)
    with pytest.raises(ImageError, match="size_mismatch"):
        verifier.feed(data + b"\x00")
    verifier = ImageVerifier(manifest, chip="esp32", min_secure_version=0)
    verifier.feed(data[:-1])
    with pytest.raises(ImageError, match="size_mismatch"):
        verifier.finish()
    verifier.feed(b"\x00" if data[-1] else b"\x01")
    with pytest.raises(ImageError, match="sha256_mismatch"):
        verifier.finish()


def test_streaming_verifier_refuses_random_bytes_at_once() -> None:
    _data, manifest = _release()
    verifier = ImageVerifier(manifest, chip="esp32", min_secure_version=0)
    with pytest.raises(ImageError, match="bad_magic"):
        verifier.feed(b"PK\x03\x04")


def test_streaming_verifier_tiny_image() -> None:
    tiny = build_app_image(version="1.0.0")[:100]
    manifest = FirmwareManifest(
        "1.0.0", "http://h/x.bin", hashlib.sha256(tiny).hexdigest(), len(tiny), False, 0, "esp32"
    )
    verifier = ImageVerifier(manifest, chip="esp32", min_secure_version=0)
    verifier.feed(tiny)
    with pytest.raises(ImageError, match="truncated"):
        verifier.finish()
    bad = dataclasses.replace(manifest, sha256=hashlib.sha256(b"x" * 100).hexdigest())
    verifier = ImageVerifier(bad, chip="esp32", min_secure_version=0)
    with pytest.raises(ImageError, match="bad_magic"):
        verifier.feed(b"x" * 100)


def test_running_version_must_be_semver() -> None:
    _data, manifest = _release()
    with pytest.raises(SemverError):
        decide_update(manifest, running_version="1.2", chip="esp32", secure_version=0)
