"""protocol.crypto against the OOB and claim-HMAC vectors (SPEC §2.1, §2.2)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.crypto import (
    SEED_SALT,
    claim_hmac,
    derive_oob_secret,
    nonce_from_bytes,
    verify_claim_hmac,
)
from protocol.errors import ValidationError
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

OOB_CASES = vector_cases("oob")
HMAC_CASES = vector_cases("claim_hmac")
ID_CHARS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@pytest.mark.parametrize("case", OOB_CASES, ids=[c["id"] for c in OOB_CASES])
def test_oob_vector(case: dict[str, Any]) -> None:
    salt = case["salt"] or SEED_SALT
    assert derive_oob_secret(case["device_id"], salt=salt) == case["oob_secret"]


@pytest.mark.parametrize("case", HMAC_CASES, ids=[c["id"] for c in HMAC_CASES])
def test_claim_hmac_vector(case: dict[str, Any]) -> None:
    args = {
        "oob_secret_hex": case["oob_secret"],
        "device_id": case["device_id"],
        "child_id": case["child_id"],
        "nonce_hex": case["nonce"],
    }
    assert claim_hmac(**args) == case["hmac_hex"]
    assert verify_claim_hmac(**args, hmac_hex=case["hmac_hex"])
    assert verify_claim_hmac(**args, hmac_hex=case["hmac_hex"].upper())


def test_section8_anchors_are_in_the_vectors() -> None:
    # The lead's contract cites these two: they must stay literally in the file.
    secrets = {c["device_id"]: c["oob_secret"] for c in OOB_CASES}
    assert secrets["Teddy-ESP32-A795BAA4"].startswith("20F98D30602B1F53")
    assert secrets["Teddy-ESP32-001"].startswith("16DD1E4997F1B95C")
    assert any(c["hmac_hex"].startswith("a2761b75") for c in HMAC_CASES)


def test_oob_is_upper_hex_and_case_sensitive() -> None:
    lower = derive_oob_secret("teddy-esp32-ccdba795baa4")
    assert lower == lower.upper() and len(lower) == 64
    assert lower != derive_oob_secret("TEDDY-ESP32-CCDBA795BAA4")


def _args() -> dict[str, str]:
    case = HMAC_CASES[0]
    return {
        "oob_secret_hex": case["oob_secret"],
        "device_id": case["device_id"],
        "child_id": case["child_id"],
        "nonce_hex": case["nonce"],
    }


@pytest.mark.parametrize(
    "bad",
    ["", "a2761b75", "z" * 64, "a2761b75faac4df07e02f17b5f11a4a7990b6ce91740e717cd064301acd2465é"],
)
def test_verify_refuses_malformed_hmac_without_raising(bad: str) -> None:
    assert verify_claim_hmac(**_args(), hmac_hex=bad) is False


def test_verify_refuses_other_child() -> None:
    args = _args()
    good = claim_hmac(**args)
    args["child_id"] = "child-other"
    assert verify_claim_hmac(**args, hmac_hex=good) is False


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("oob_secret", {"oob_secret_hex": "xyz"}),
        ("oob_secret", {"oob_secret_hex": "ab" * 16}),
        ("nonce", {"nonce_hex": "not hex"}),
    ],
)
def test_claim_hmac_bad_inputs(field: str, changes: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as info:
        claim_hmac(**{**_args(), **changes})
    assert info.value.errors[0].field == field


@pytest.mark.parametrize("size", [16, 24, 32])
def test_nonce_from_bytes(size: int) -> None:
    nonce = nonce_from_bytes(bytes(range(size)))
    assert nonce == bytes(range(size)).hex() and nonce == nonce.lower()


@pytest.mark.parametrize("size", [0, 8, 15, 33])
def test_nonce_from_bytes_wrong_size(size: int) -> None:
    with pytest.raises(ValidationError):
        nonce_from_bytes(bytes(size))


@given(
    device_id=ID_CHARS.filter(lambda s: 8 <= len(s) <= 64),
    child_id=ID_CHARS.filter(lambda s: 1 <= len(s) <= 64),
    nonce=st.binary(min_size=16, max_size=32),
)
def test_hmac_round_trip(device_id: str, child_id: str, nonce: bytes) -> None:
    secret = derive_oob_secret(device_id)
    nonce_hex = nonce_from_bytes(nonce)
    mac = claim_hmac(
        oob_secret_hex=secret, device_id=device_id, child_id=child_id, nonce_hex=nonce_hex
    )
    args = {"oob_secret_hex": secret, "device_id": device_id, "child_id": child_id}
    assert verify_claim_hmac(**args, nonce_hex=nonce_hex, hmac_hex=mac)
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    assert not verify_claim_hmac(**args, nonce_hex=nonce_hex, hmac_hex=flipped)
