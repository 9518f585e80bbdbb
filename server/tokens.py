"""Device JWTs: the signing key, issuing access/refresh pairs and verifying them (SPEC §3).

The HS256 key is 256 random bits generated on first start and kept in the data dir, never
a constant in code (original defect 7). Verification pins the algorithm and checks every
claim the spec lists, including ``aud`` (original defect 6) and ``type``.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jwt

from server.errors import ServerError

AUDIENCE = "teddy-api"
ISSUER = "teddy-device-system"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = (
    "sub",
    "device_id",
    "child_id",
    "session_id",
    "type",
    "aud",
    "iss",
    "iat",
    "exp",
    "jti",
)


class TokenType(StrEnum):
    ACCESS = "device_access"
    REFRESH = "device_refresh"


class TokenError(ServerError):
    """A token was refused; ``reason`` is the SPEC §6.1 refusal reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TokenClaims:
    device_id: str
    child_id: str
    session_id: str
    type: TokenType
    issued_at: int
    expires_at: int
    jti: str


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    refresh_jti: str
    expires_in: int
    refresh_expires_in: int


def load_or_create_key(data_dir: Path) -> bytes:
    """Read ``jwt.key`` (hex) from the data dir, creating it with mode 0600 on first start."""
    path = data_dir / "jwt.key"
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) < 32:
            raise TokenError("invalid_key", f"{path} holds a key shorter than 256 bits; delete it")
        return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


def audience_ok(aud: object) -> bool:
    """SPEC §3.1 step 3: `aud` is exactly the string teddy-api. PyJWT's own check also
    takes a list that holds it (RFC 7519 §4.1.3 allows one), which SPEC does not."""
    return aud == AUDIENCE


class TokenService:
    """Issues and verifies device tokens with one key."""

    def __init__(self, *, key: bytes, access_ttl_s: int, refresh_ttl_s: int) -> None:
        self._key = key
        self._access_ttl = access_ttl_s
        self._refresh_ttl = refresh_ttl_s

    def issue_pair(
        self, *, device_id: str, child_id: str, session_id: str, now: float
    ) -> TokenPair:
        access, _ = self._encode(device_id, child_id, session_id, TokenType.ACCESS, now)
        refresh, jti = self._encode(device_id, child_id, session_id, TokenType.REFRESH, now)
        return TokenPair(access, refresh, jti, self._access_ttl, self._refresh_ttl)

    def _encode(
        self, device_id: str, child_id: str, session_id: str, kind: TokenType, now: float
    ) -> tuple[str, str]:
        iat = int(now)
        ttl = self._access_ttl if kind is TokenType.ACCESS else self._refresh_ttl
        jti = str(uuid.uuid4())
        claims = {
            "sub": f"device:{device_id}:child:{child_id}",
            "device_id": device_id,
            "child_id": child_id,
            "session_id": session_id,
            "type": kind.value,
            "aud": AUDIENCE,
            "iss": ISSUER,
            "iat": iat,
            "exp": iat + ttl,
            "jti": jti,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), jti

    def verify(self, token: str, *, expected: TokenType, now: float) -> TokenClaims:
        """Decode ``token`` and check every claim; raises TokenError with a SPEC reason."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenError("invalid_token", f"token rejected: {exc}") from exc
        if not audience_ok(claims["aud"]):
            raise TokenError(
                "invalid_token", f"token audience is {claims['aud']!r}, need {AUDIENCE!r}"
            )
        # exp/iat checked against the injected clock, not PyJWT's own time.time().
        if not isinstance(claims["exp"], int) or claims["exp"] <= now:
            raise TokenError("token_expired", "token expired; refresh it or claim again")
        if not isinstance(claims["iat"], int) or claims["iat"] > now + 60:
            raise TokenError("invalid_token", "token issued in the future")
        if claims["type"] != expected.value:
            raise TokenError(
                "invalid_token", f"token type is {claims['type']!r}, need {expected.value!r}"
            )
        expected_sub = f"device:{claims['device_id']}:child:{claims['child_id']}"
        if claims["sub"] != expected_sub:
            raise TokenError("invalid_token", "token subject does not match its device and child")
        return TokenClaims(
            device_id=str(claims["device_id"]),
            child_id=str(claims["child_id"]),
            session_id=str(claims["session_id"]),
            type=expected,
            issued_at=claims["iat"],
            expires_at=claims["exp"],
            jti=str(claims["jti"]),
        )
