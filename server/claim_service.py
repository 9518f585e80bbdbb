"""The claim and refresh flows of SPEC §2 and §3.2, free of HTTP.

The route only parses JSON and turns :class:`ApiError` into a response; everything a
test wants to pin down (the check order of SPEC §2.4, which step consumes the nonce,
the development-profile registrations) lives here and takes ``now`` explicitly. So do the
legacy-server quirks of SPEC Appendix B that change these checks (defects 4, 5, 6, 7; no
replay protection; no reuse detection), each at the step the original got wrong.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from protocol.claim import (
    AudioConfig,
    ChildProfile,
    ClaimRequest,
    ClaimResponse,
    DeviceConfig,
    RefreshRequest,
    RefreshResponse,
    canonical_id,
    is_dev_auto_register,
)
from protocol.constants import NONCE_WINDOW_S, TIMESTAMP_SKEW_S, UPLINK_MAX_FRAME_BYTES
from protocol.crypto import derive_oob_secret, verify_claim_hmac
from protocol.errors import ValidationError
from protocol.server_quirks import (
    CLAIM_REPLAY_ACCEPTED,
    DISABLED_DEVICE_500,
    NONCE_BURNED_BEFORE_HMAC,
    REFRESH_ALWAYS_REFUSED,
    REFRESH_REUSE_UNDETECTED,
)
from server.errors import ApiError, FieldProblem
from server.limits import NonceStore, RateLimiter
from server.settings import ServerSettings
from server.store import Child, Device, Store
from server.tokens import TokenClaims, TokenError, TokenService, TokenType

DEV_CHILD_NAME = "Friend"
DEV_CHILD_AGE = 7


@dataclass(frozen=True)
class ClaimContext:
    """Where the claim came from and what URL the device should open next."""

    client_ip: str
    websocket_url: str


def invalid_request(exc: ValidationError) -> ApiError:
    problems = [FieldProblem(e.field, e.reason) for e in exc.errors]
    names = ", ".join(p.field for p in problems)
    return ApiError(422, "invalid_request", f"invalid fields: {names}; see SPEC §2.3", problems)


class ClaimService:
    def __init__(
        self,
        *,
        settings: ServerSettings,
        store: Store,
        tokens: TokenService,
        nonces: NonceStore,
        limiter: RateLimiter,
    ) -> None:
        self._settings = settings
        self._store = store
        self._tokens = tokens
        self._nonces = nonces
        self._limiter = limiter

    def claim(self, body: object, *, context: ClaimContext) -> ClaimResponse:
        now = self._settings.clock()
        try:
            request = ClaimRequest.from_json(body)
        except ValidationError as exc:
            raise invalid_request(exc) from exc
        self._check_rate(request.device_id, context.client_ip, now)
        device = self._find_device(request.device_id, now)
        if not device.enabled:
            if DISABLED_DEVICE_500 in self._settings.quirks:
                # Defect 5: the original filtered disabled devices out, then failed to
                # register them again.
                raise ApiError(500, "internal_error", "internal error; see server log")
            raise ApiError(403, "device_disabled", "this device is disabled; ask its owner")
        if NONCE_BURNED_BEFORE_HMAC in self._settings.quirks:
            self._consume_nonce(device, request.nonce, now)  # defect 4: before step 6
        self._check_proof(device, request, now)
        # The nonce is spent only by a request that proved the secret (fixes original defect 4).
        if NONCE_BURNED_BEFORE_HMAC not in self._settings.quirks:
            self._consume_nonce(device, request.nonce, now)
        child = self._find_child(request.child_id, now)
        return self._issue(device, child, context, now)

    def _check_proof(self, device: Device, request: ClaimRequest, now: float) -> None:
        """SPEC §2.4 steps 6 and 7: the HMAC over the device's secret, a fresh timestamp."""
        if not verify_claim_hmac(
            oob_secret_hex=device.oob_secret,
            device_id=request.device_id,
            child_id=request.child_id,
            nonce_hex=request.nonce,
            hmac_hex=request.hmac_hex,
        ):
            raise ApiError(
                401, "invalid_signature", "hmac_hex does not match; check the OOB secret"
            )
        # Integer arithmetic: a client's timestamp may have hundreds of digits (SPEC §1.1),
        # which a float cannot hold; whatever its size, far from now is stale (§2.4 step 7).
        stamp = request.timestamp
        if stamp is not None and abs(stamp - math.floor(now)) > TIMESTAMP_SKEW_S:
            raise ApiError(
                401,
                "stale_timestamp",
                f"timestamp is more than {TIMESTAMP_SKEW_S} s from server time",
            )

    def _consume_nonce(self, device: Device, nonce: str, now: float) -> None:
        """SPEC §2.4 step 8: a nonce is good once per device within the window."""
        if CLAIM_REPLAY_ACCEPTED in self._settings.quirks:
            return  # no replay protection at all
        if not self._nonces.consume(scope=device.key, nonce=nonce, now=now, ttl_s=NONCE_WINDOW_S):
            raise ApiError(409, "nonce_reused", "nonce already used; send a fresh random nonce")

    def _check_rate(self, device_id: str, client_ip: str, now: float) -> None:
        limits = self._settings.rate_limits
        for key, limit in (
            (f"dev:{canonical_id(device_id)}", limits.per_device),
            (f"ip:{client_ip}", limits.per_ip),
        ):
            decision = self._limiter.hit(key=key, limit=limit, window_s=limits.window_s, now=now)
            if not decision.allowed:
                raise ApiError(
                    429,
                    "rate_limited",
                    f"too many claims; retry in {decision.retry_after_s} s",
                    headers={"Retry-After": str(decision.retry_after_s)},
                )

    def _find_device(self, device_id: str, now: float) -> Device:
        device = self._store.get_device(device_id)
        if device is not None:
            return device
        if self._settings.development and is_dev_auto_register(device_id):
            oob = derive_oob_secret(device_id)
            return self._store.upsert_device(device_id=device_id, oob_secret=oob, now=now)
        raise ApiError(
            404,
            "device_not_found",
            "device is not registered; provision it (teddy-server provision)",
        )

    def _find_child(self, child_id: str, now: float) -> Child:
        child = self._store.get_child(child_id)
        if child is None and self._settings.development:
            child = self._store.upsert_child(
                child_id=child_id,
                name=DEV_CHILD_NAME,
                age=DEV_CHILD_AGE,
                language="en",
                consent=True,
                now=now,
            )
        if child is None:
            raise ApiError(404, "child_not_found", "child profile not found; provision it first")
        if not child.consent:
            raise ApiError(403, "consent_required", "a parent has not given consent for this child")
        return child

    def _issue(
        self, device: Device, child: Child, context: ClaimContext, now: float
    ) -> ClaimResponse:
        session_id = str(uuid.uuid4())
        self._store.create_session(
            session_id=session_id, device_key=device.key, child_key=child.key, now=now
        )
        pair = self._tokens.issue_pair(
            device_id=device.key, child_id=child.key, session_id=session_id, now=now
        )
        self._store.record_refresh_token(jti=pair.refresh_jti, session_id=session_id, now=now)
        self._store.mark_paired(device.key, now=now)
        # Built with the protocol's own model, so the server emits exactly what devices parse.
        return ClaimResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            device_session_id=session_id,
            child_profile=ChildProfile(child.child_id, child.name, child.age, child.language),
            device_config=device_config(self._settings, context.websocket_url),
            expires_in=pair.expires_in,
            refresh_expires_in=pair.refresh_expires_in,
        )

    def refresh(self, body: object) -> RefreshResponse:
        """Rotate a refresh token (SPEC §3.2); a reused one revokes its whole family."""
        now = self._settings.clock()
        try:
            token = RefreshRequest.from_json(body).refresh_token
        except ValidationError as exc:
            raise invalid_request(exc) from exc
        if REFRESH_ALWAYS_REFUSED in self._settings.quirks:
            # Defect 6: verified without the audience, which the JWT library then refused.
            raise ApiError(401, "invalid_token", "Invalid audience")
        try:
            claims = self._tokens.verify(token, expected=TokenType.REFRESH, now=now)
        except TokenError as exc:
            raise ApiError(401, "invalid_token", str(exc)) from exc
        if self._store.session_revoked(claims.session_id):
            raise ApiError(401, "invalid_token", "this session was revoked; claim again")
        self._spend_refresh_token(claims, now)
        pair = self._tokens.issue_pair(
            device_id=claims.device_id,
            child_id=claims.child_id,
            session_id=claims.session_id,
            now=now,
        )
        self._store.record_refresh_token(
            jti=pair.refresh_jti, session_id=claims.session_id, now=now
        )
        return RefreshResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            refresh_expires_in=pair.refresh_expires_in,
        )

    def mint_legacy_token(self, body: object) -> dict[str, object]:
        """Quirk legacy_token_minting (defect 7): an access token for whatever device_id the
        body names, without any proof; the old token is not even read (SPEC §3.3 forbids
        this endpoint)."""
        now = self._settings.clock()
        fields = body if isinstance(body, dict) else {}
        device_id = canonical_id(str(fields.get("device_id") or "unknown-device"))
        child_id = canonical_id(str(fields.get("child_id") or "child-unknown"))
        session_id = str(uuid.uuid4())
        self._store.create_session(
            session_id=session_id, device_key=device_id, child_key=child_id, now=now
        )
        pair = self._tokens.issue_pair(
            device_id=device_id, child_id=child_id, session_id=session_id, now=now
        )
        return {
            "access_token": pair.access_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
        }

    def _spend_refresh_token(self, claims: TokenClaims, now: float) -> None:
        """SPEC §3.2 rotation: each refresh token works once; a reuse revokes its family."""
        if REFRESH_REUSE_UNDETECTED in self._settings.quirks:
            return  # no rotation bookkeeping: a used token works again
        if not self._store.use_refresh_token(jti=claims.jti, session_id=claims.session_id, now=now):
            raise ApiError(
                401,
                "refresh_token_reused",
                "refresh token already used; the session is revoked, claim again",
            )


def device_config(settings: ServerSettings, websocket_url: str) -> DeviceConfig:
    """The ``device_config`` block of the claim response (SPEC §2.5)."""
    return DeviceConfig(
        websocket_url=websocket_url,
        heartbeat_interval=settings.heartbeat_interval_s,
        max_message_size=UPLINK_MAX_FRAME_BYTES,
        audio=AudioConfig(),
    )
