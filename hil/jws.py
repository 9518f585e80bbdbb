"""Forged JWTs for security probes: read a token without verifying it, change it, re-encode.

A device's tokens are JWS compact serialisations (`header.payload.signature`, base64url
without padding; RFC 7515 §7.1, SPEC §3.1). The harness captures them from the wire and
makes variants no good client sends: another `alg` (`none` in any spelling, RS256 on an
HS256 token), claims the server must refuse (expired, `aud` a list, another `iss`), a
changed payload under the original signature, or a signature with a guessed key. What it
changes is a `Forgery`; `forge` applies one. The server under test must refuse each as
SPEC §3.1 says; that is judged by the `http` steps that present them (hil.probe).

Signatures: `none` (an empty third part), `original` (the token's own, over what is now
another header or payload: tampering), or `sign` with the algorithm the header names:
HS256/384/512 with an HMAC key (a guess, the empty key, or the server's own key read from
its data folder so that the claim checks behind the signature check are reached),
RS/PS/ES with a key pair made for the forgery (the server has no public key to check it
with; a server that takes the `alg` from the token is caught).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hil.errors import HilError

SIGN: Final = "sign"
NONE: Final = "none"
ORIGINAL: Final = "original"
SIGNATURES: Final = (SIGN, NONE, ORIGINAL)

HMAC_HASHES: Final = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# Signed with a key pair made for the forgery (PyJWT's implementations, over `cryptography`).
PAIR_ALGS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
SIGNING_ALGS: Final = (*HMAC_HASHES, *PAIR_ALGS)
_EC_CURVES: Final[dict[str, ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}

# RFC 7519 §4.1.4-6: the NumericDate claims; only these take times relative to now.
TIME_CLAIMS: Final = ("iat", "exp", "nbf")
RELATIVE_TIME: Final = re.compile(r"(?:now)?([+-][0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)|now")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class ForgeError(HilError):
    """The token to forge from is not a JWS, or a forgery cannot be made as written."""


def is_none_alg(alg: str) -> bool:
    """`none` in any spelling (`None`, `NONE`, `nOnE`): a case-insensitive server takes it."""
    return alg.lower() == NONE


@dataclass(frozen=True)
class Forgery:
    """What to change: the header's `alg`, members, claims, and how to sign.

    `header` and `claims` values of None remove the member; `drop` removes claims that
    must exist. `key` is an HMAC key (bytes; b"" the empty key) for `sign` with HS*.
    """

    alg: str | None = None
    header: Mapping[str, object] = field(default_factory=dict)
    claims: Mapping[str, object] = field(default_factory=dict)
    drop: Sequence[str] = ()
    signature: str = SIGN
    key: bytes | None = None


@dataclass(frozen=True)
class Token:
    """A decoded (unverified) JWS compact token."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signature: str  # the third part as sent (base64url)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(part: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ForgeError(f"the token's {what} is not base64url: {exc}") from None


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_unb64url(part, what))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ForgeError(f"the token's {what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ForgeError(f"the token's {what} is not a JSON object")
    return value


def decode(token: str) -> Token:
    """Split and decode `token` without checking its signature."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ForgeError(
            f"not a JWS compact token (header.payload.signature): {len(parts)} part(s) in "
            f"{token[:40]!r}"
        )
    return Token(_json_object(parts[0], "header"), _json_object(parts[1], "payload"), parts[2])


def _compact(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def relative_time(value: str, now: float) -> int | None:
    """Epoch seconds for `now`, `+1h`, `-60s`, `now+5m`; None for any other string."""
    match = RELATIVE_TIME.fullmatch(value.strip())
    if match is None:
        return None
    if match.group(1) is None:
        return int(now)
    return int(now + float(match.group(1)) * _UNIT_S[match.group(2)])


def _claims(payload: dict[str, Any], forgery: Forgery, now: float) -> dict[str, Any]:
    claims = dict(payload)
    for name in forgery.drop:
        if name not in claims:
            raise ForgeError(f"drop: the token has no {name!r} claim (it has {sorted(claims)})")
        del claims[name]
    for name, value in forgery.claims.items():
        if value is None:
            claims.pop(name, None)
        elif name in TIME_CLAIMS and isinstance(value, str):
            when = relative_time(value, now)
            claims[name] = value if when is None else when
        else:
            claims[name] = value
    return claims


def _pair_signature(alg: str, message: bytes) -> bytes:
    """A signature by a key pair made now: valid for `alg`, but no server knows the key."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if alg.startswith("ES"):
        key = ec.generate_private_key(_EC_CURVES[alg])
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return bytes(jwt.get_algorithm_by_name(alg).sign(message, key))


def sign(alg: str, message: bytes, key: bytes | None) -> bytes:
    """The `alg` signature over `message` (HS* with `key`, others with a fresh key pair)."""
    if alg in HMAC_HASHES:
        if key is None:
            raise ForgeError(f"{alg} needs an HMAC key")
        return hmac.new(key, message, HMAC_HASHES[alg]).digest()
    if alg in PAIR_ALGS:
        return _pair_signature(alg, message)
    raise ForgeError(f"cannot sign with alg {alg!r}; signable: {', '.join(SIGNING_ALGS)}")


def forge(token: str, forgery: Forgery, *, now: float) -> str:
    """`token` changed as `forgery` says, re-encoded and signed (or not)."""
    original = decode(token)
    header = dict(original.header)
    if forgery.alg is not None:
        header["alg"] = forgery.alg
    for name, value in forgery.header.items():
        if value is None:
            header.pop(name, None)
        else:
            header[name] = value
    signing_input = f"{_compact(header)}.{_compact(_claims(original.payload, forgery, now))}"
    if forgery.signature == NONE:
        return f"{signing_input}."
    if forgery.signature == ORIGINAL:
        return f"{signing_input}.{original.signature}"
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise ForgeError(f"the header's alg is {alg!r}: name one to sign with (alg:)")
    return f"{signing_input}.{b64url(sign(alg, signing_input.encode('ascii'), forgery.key))}"
