"""The golden vector files themselves (SPEC §10) and the small shared modules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from protocol import constants
from protocol.errors import (
    IMAGE_ERROR_REASONS,
    WS_ERROR_CODES,
    CommandError,
    ImageError,
    MessageError,
    ProtocolError,
    ValidationError,
)
from protocol.vectors import load_vectors, vector_cases, vector_names

pytestmark = pytest.mark.unit

EXPECTED_FILES = {
    "audio_frames",
    "claim_hmac",
    "claim_requests",
    "claim_responses",
    "console",
    "device_io",
    "etag",
    "eventlines",
    "if_none_match",
    "images",
    "manifests",
    "messages_invalid",
    "messages_valid",
    "oob",
    "semver",
    "server_answers",
}


def test_every_expected_file_ships() -> None:
    assert set(vector_names()) == EXPECTED_FILES


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(x for v in value.values() for x in _walk(v))]
    if isinstance(value, list):
        return [value, *(x for v in value for x in _walk(v))]
    return [value]


@pytest.mark.parametrize("name", sorted(EXPECTED_FILES))
def test_file_shape_is_plain_for_c_readers(name: str) -> None:
    data = load_vectors(name)
    assert isinstance(data["description"], str) and data["description"]
    assert isinstance(data["spec_section"], str) and data["spec_section"][0].isdigit()
    cases = vector_cases(name)
    assert cases, name
    plain = [c for c in cases if "float" not in c["id"]]  # float inputs are the point there
    for item in _walk(plain):
        # cJSON reads doubles: keep every number an integer a double holds exactly.
        assert not isinstance(item, float), name
        if isinstance(item, int) and not isinstance(item, bool):
            assert abs(item) <= 2**53, name


def test_error_codes_used_in_vectors_are_spec_codes() -> None:
    codes = {c["error_code"] for c in vector_cases("messages_invalid")}
    assert codes <= WS_ERROR_CODES
    reasons = {c["expect"].get("error") for c in vector_cases("images")} - {None}
    assert reasons <= IMAGE_ERROR_REASONS


@pytest.mark.parametrize("name", ["../etag", "ETAG", "nope", ""])
def test_load_vectors_refuses_bad_names(name: str) -> None:
    with pytest.raises(ProtocolError):
        load_vectors(name)


def test_vector_json_is_utf8_with_trailing_newline() -> None:
    from importlib import resources

    for name in EXPECTED_FILES:
        raw = resources.files("protocol").joinpath("vectors", f"{name}.json").read_bytes()
        assert raw.endswith(b"}\n")
        json.loads(raw.decode("utf-8"))


def test_close_codes() -> None:
    assert [int(c) for c in constants.CloseCode] == [1000, 1001, 1008, 1009, 1011, 4001, 4008]
    assert int(constants.CloseCode.IDLE_TIMEOUT) == 4008


def test_audio_constants_are_consistent() -> None:
    assert constants.BYTES_PER_SECOND == 32000
    assert constants.MAX_UTTERANCE_BYTES == 30 * constants.BYTES_PER_SECOND
    assert constants.MIN_UTTERANCE_BYTES == constants.BYTES_PER_SECOND // 10
    assert constants.CHIP_NAMES[9] == "esp32s3"


def test_exception_hierarchy_and_messages() -> None:
    for exc in (
        MessageError("invalid_json", "bad"),
        ImageError("truncated"),
        CommandError("empty", "empty"),
        ValidationError([]),
    ):
        assert isinstance(exc, ProtocolError)
    assert str(MessageError("empty_text", "text is empty")) == "empty_text: text is empty"
    assert (
        str(ImageError("bad_hash", "x")) == "bad_hash: x"
        and str(ImageError("bad_hash")) == "bad_hash"
    )
    assert str(ValidationError([])) == "invalid request"
