"""Claim cryptography: per-device OOB secret derivation and the claim HMAC.

Owns SPEC §2.1 (seed OOB derivation) and §2.2 (HMAC over device_id || child_id ||
nonce). Randomness is always supplied by the caller (sans-I/O): this module never
reads os.urandom or a clock, so every result is reproducible from test vectors.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from protocol.constants import HMAC_HEX_LEN, NONCE_MAX_HEX, NONCE_MIN_HEX
from protocol.errors import FieldError, ValidationError

SEED_SALT: Final = "ai-teddy-bear-oob-secret-v1"
OOB_SECRET_HEX_LEN: Final = 64


def derive_oob_secret(device_id: str, *, salt: str = SEED_SALT) -> str:
    """Seed OOB secret of a device, 64 upper-case hex chars (SPEC §2.1).

    OOB = UPPER(hex(SHA256(hex(SHA256(device_id + ":" + salt)) + salt))); the inner
    hex is lower-case. The id is used exactly as given (case kept), which is what
    the original A14 server did.
    """
    inner = hashlib.sha256(f"{device_id}:{salt}".encode()).hexdigest()
    return hashlib.sha256((inner + salt).encode()).hexdigest().upper()


def _hex_bytes(value: str, field: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValidationError([FieldError(field, "not_hex")]) from None


def _claim_key_and_message(
    *, oob_secret_hex: str, device_id: str, child_id: str, nonce_hex: str
) -> tuple[bytes, bytes]:
    key = _hex_bytes(oob_secret_hex, "oob_secret")
    if len(key) * 2 != OOB_SECRET_HEX_LEN:
        raise ValidationError([FieldError("oob_secret", "wrong_length")])
    nonce = _hex_bytes(nonce_hex, "nonce")
    # SPEC §2.2: IDs exactly as sent (no case folding), then the raw nonce bytes.
    return key, device_id.encode() + child_id.encode() + nonce


def claim_hmac(*, oob_secret_hex: str, device_id: str, child_id: str, nonce_hex: str) -> str:
    """Lower-case hex HMAC-SHA256 a device sends as `hmac_hex` (SPEC §2.2)."""
    key, message = _claim_key_and_message(
        oob_secret_hex=oob_secret_hex, device_id=device_id, child_id=child_id, nonce_hex=nonce_hex
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_claim_hmac(
    *, oob_secret_hex: str, device_id: str, child_id: str, nonce_hex: str, hmac_hex: str
) -> bool:
    """Constant-time check of a claim's `hmac_hex` (case-insensitive hex, SPEC §2.4).

    Returns False (never raises) for a malformed `hmac_hex`, so a caller cannot leak
    through a different error path which part of the signature was wrong.
    """
    expected = claim_hmac(
        oob_secret_hex=oob_secret_hex, device_id=device_id, child_id=child_id, nonce_hex=nonce_hex
    )
    candidate = hmac_hex.lower().encode("utf-8", errors="replace")
    if len(candidate) != HMAC_HEX_LEN:
        return False
    return hmac.compare_digest(expected.encode(), candidate)


def nonce_from_bytes(b: bytes) -> str:
    """Lower-case hex claim nonce from caller-supplied random bytes (16..32 bytes)."""
    if not NONCE_MIN_HEX <= len(b) * 2 <= NONCE_MAX_HEX:
        raise ValidationError([FieldError("nonce", "wrong_length")])
    return b.hex()
