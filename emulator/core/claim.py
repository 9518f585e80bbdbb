"""Claim and token refresh on the device: request, persistence, retry policy.

Owns SPEC §2.6 (device retry policy: 429 waits Retry-After; transport errors, 5xx and
409 back off `base * 2^(attempt-1)` ±25 % with a fresh nonce; 401 invalid_signature,
403 and 404 stop and print `claim.fail{retry_in_ms:0}`; 401 stale_timestamp retries once
without a timestamp) and SPEC §3.2 (tokens persisted refresh-first, access deadline on the
uptime clock, refresh 60 s before expiry and after a reboot, claim again on a 401, every
failed refresh printed as `token.refresh.fail` with what the device does next). Both
failure events say why (SPEC §8.2: status, the server's code and message, the invalid
field of a 200 body); the claim's child profile is stored as the default child name and
age (SPEC §2.5, §9.2).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from emulator.core.answers import Failure, bad_answer, failure_of, parse_answer
from emulator.core.context import Ctx
from emulator.core.inputs import HttpEvent, HttpFailed, HttpResponse
from emulator.core.timing import backoff_ms
from protocol import device_model as dm
from protocol.claim import ClaimRequest, ClaimResponse, RefreshRequest, RefreshResponse
from protocol.constants import CLAIM_PATH, REFRESH_PATH
from protocol.crypto import claim_hmac, derive_oob_secret, nonce_from_bytes
from protocol.device_events import (
    ClaimFailEvent,
    ClaimOkEvent,
    TokenRefreshedEvent,
    TokenRefreshFailEvent,
)
from protocol.device_model import RefreshNext, Timer
from protocol.server_answer import BadAnswer

_JSON = (("Content-Type", "application/json"),)


def _wire_json(body: dict[str, object]) -> str:
    """SPEC §1.1: JSON text on the wire is compact (separators `,` and `:`), as C sends it."""
    return json.dumps(body, separators=(",", ":"))


class Auth:
    """Gets the device a usable access token, then calls `on_ready`."""

    def __init__(
        self,
        ctx: Ctx,
        *,
        on_ready: Callable[[], None],
        on_claimed: Callable[[str], None],
    ) -> None:
        self.ctx = ctx
        self._on_ready = on_ready
        self._on_claimed = on_claimed  # gets websocket_url (SPEC §4.1 ws_path check)
        self._req: int | None = None
        self._background = False
        self.attempt = 0  # consecutive claim failures (claim.fail `attempt`)
        self._refresh_failures = 0
        self._stale_retry_used = False
        self._omit_timestamp = False
        self._last_nonce: str | None = None  # quirks reuse_nonce, retry_same_nonce
        self._same_nonce = False
        self.gave_up = False
        # SPEC §3.2: deadlines live on the uptime clock; unknown after a reboot.
        self.access_deadline_ms: int | None = None

    # --- queries ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._req is not None

    @property
    def access_token(self) -> str | None:
        return self.ctx.nvs_get(dm.NVS_AUTH_ACCESS_TOKEN)

    @property
    def websocket_url(self) -> str | None:
        return self.ctx.nvs_get(dm.NVS_AUTH_WEBSOCKET_URL)

    def has_tokens(self) -> bool:
        return bool(self.access_token and self.ctx.nvs_get(dm.NVS_AUTH_REFRESH_TOKEN))

    def needs_refresh(self) -> bool:
        deadline = self.access_deadline_ms
        return (
            deadline is None
            or self.ctx.now_ms >= deadline - self.ctx.timing.token_refresh_margin_ms
        )

    # --- entry points -------------------------------------------------------------------

    def authenticate(self) -> None:
        """Claim, refresh or go straight on, whatever the stored tokens allow."""
        if self.busy:
            # One request at a time (SPEC §3.2). A background refresh in flight now
            # answers a caller that wants the link (a reconnect): let its end connect, or
            # retry, instead of leaving the device offline with nothing armed (SPEC
            # §6.2; device trace refresh_during_reconnect).
            self._background = False
            return
        if not self.has_tokens() or self.ctx.nvs_get(dm.NVS_AUTH_CHILD_ID) != self.ctx.child_id:
            self.claim()
        elif self.needs_refresh():
            self.refresh()
        else:
            self._on_ready()

    def drop_tokens(self) -> None:
        self.ctx.nvs_erase("auth")
        self.access_deadline_ms = None
        self.ctx.disarm("token_refresh")

    def cancel(self) -> None:
        self.ctx.http_cancel(self._req)
        self._req = None
        self.ctx.disarm("claim_retry")
        self.ctx.disarm("auth_retry")

    def claim(self) -> None:
        """POST a freshly signed claim (SPEC §2.2, §2.3)."""
        self.cancel()
        self.gave_up = False
        self._background = False
        self.ctx.set_state("claiming")
        device_id, child_id = self.ctx.device_id, self.ctx.child_id
        nonce = self._nonce()
        oob = (
            self.ctx.nvs_get(dm.NVS_MFG_OOB_SECRET)
            or self.ctx.build.oob_secret
            or derive_oob_secret(device_id)
        )
        request = ClaimRequest(
            device_id=device_id,
            child_id=child_id,
            nonce=nonce,
            hmac_hex=claim_hmac(
                oob_secret_hex=oob, device_id=device_id, child_id=child_id, nonce_hex=nonce
            ),
            firmware_version=self.ctx.boot.fw_version,
            timestamp=None if self._omit_timestamp else self.ctx.wall_clock(),
        )
        self._req = self.ctx.http(
            "POST",
            self.ctx.server_url + CLAIM_PATH,
            headers=_JSON,
            body=_wire_json(request.to_json()),
            on_event=self._on_claim,
        )

    def _nonce(self) -> str:
        """SPEC §2.3: fresh CSPRNG bytes for every claim, unless a quirk replays the last."""
        replay = self.ctx.quirk("reuse_nonce") or self._same_nonce
        self._same_nonce = False
        if not (replay and self._last_nonce):
            self._last_nonce = nonce_from_bytes(self.ctx.nonce_source())
        return self._last_nonce

    def refresh(self, *, background: bool = False) -> None:
        """POST the refresh token (SPEC §3.2); never two at once."""
        token = self.ctx.nvs_get(dm.NVS_AUTH_REFRESH_TOKEN)
        if self.busy or not token:
            if not token and not background:
                self.claim()
            return
        self._background = background
        if not background:
            self.ctx.set_state("claiming")
        self._req = self.ctx.http(
            "POST",
            self.ctx.server_url + REFRESH_PATH,
            headers=_JSON,
            body=_wire_json(RefreshRequest(token).to_json()),
            on_event=self._on_refresh,
        )

    def on_timer(self, name: Timer) -> None:
        if name == "claim_retry":
            self.claim()
        elif name == "auth_retry":
            self.authenticate()
        elif name == "token_refresh" and not self.busy:
            self.refresh(background=True)

    # --- claim answers ------------------------------------------------------------------

    def _finish(self, event: HttpEvent) -> HttpResponse | HttpFailed | None:
        if not isinstance(event, HttpResponse | HttpFailed):
            return None
        self.ctx.http_done(event.req_id)
        self._req = None
        return event

    def _on_claim(self, event: HttpEvent) -> None:
        answer = self._finish(event)
        if answer is None:
            return
        if isinstance(answer, HttpFailed):
            self._claim_failed(failure_of(answer), self._backoff())
            return
        if answer.status == 200:
            claimed = parse_answer(answer.body, ClaimResponse.from_json)
            if isinstance(claimed, BadAnswer):
                self._claim_failed(bad_answer(200, "bad_response", claimed), self._backoff())
                return
            self._claimed(claimed)
            return
        failure = failure_of(answer)
        self._claim_failed(failure, self._retry_delay(answer, failure.code))

    def _retry_delay(self, answer: HttpResponse, code: str) -> int:
        """SPEC §2.6 device retry policy; 0 means stop and wait for a human."""
        if answer.status == 429:
            try:
                seconds = int(answer.headers.get("retry-after", "1"))
            except ValueError:
                seconds = 1
            return max(1, seconds) * 1000
        if answer.status >= 500 or answer.status == 409:
            return self._backoff()
        if answer.status == 401 and self.ctx.quirk("retry_same_nonce"):
            self._same_nonce = True  # SPEC Appendix C: the refused nonce goes out again
            return self._backoff()
        if answer.status == 401 and code == "stale_timestamp" and not self._stale_retry_used:
            self._stale_retry_used = True
            self._omit_timestamp = True  # the clock is off; drop the timestamp and retry once
            return self._backoff()
        return 0

    def _backoff(self) -> int:
        t = self.ctx.timing
        return backoff_ms(
            attempt=self.attempt + 1,
            base_ms=t.claim_backoff_base_ms,
            max_ms=t.claim_backoff_max_ms,
            jitter=t.claim_jitter,
            rng=self.ctx.rng,
        )

    def _claim_failed(self, why: Failure, retry_in_ms: int) -> None:
        self.attempt += 1
        self.ctx.emit(
            ClaimFailEvent(
                status=why.status,
                code=why.code,
                attempt=self.attempt,
                retry_in_ms=retry_in_ms,
                message=why.message,
                field=why.field,
            )
        )
        if retry_in_ms > 0:
            self.ctx.arm("claim_retry", retry_in_ms)
        else:
            self.gave_up = True
            self.ctx.set_state("offline")

    def _claimed(self, claimed: ClaimResponse) -> None:
        self.attempt = 0
        self._stale_retry_used = False
        self._omit_timestamp = False
        cfg = claimed.device_config
        # SPEC §3.2: the refresh token is durable before the access token is used.
        self.ctx.nvs_set(dm.NVS_AUTH_REFRESH_TOKEN, claimed.refresh_token)
        self.ctx.nvs_set(dm.NVS_AUTH_ACCESS_TOKEN, claimed.access_token)
        self.ctx.nvs_set(dm.NVS_AUTH_SESSION_ID, claimed.device_session_id)
        self.ctx.nvs_set(dm.NVS_AUTH_WEBSOCKET_URL, cfg.websocket_url)
        self.ctx.nvs_set(dm.NVS_AUTH_CHILD_ID, self.ctx.child_id)
        profile = claimed.child_profile
        # SPEC §2.5, §9.2: the claim's name and age are the defaults of the WebSocket query
        # (until `set`); kept with the tokens, so they survive a reboot and go with them.
        self.ctx.nvs_set(dm.NVS_AUTH_CHILD_NAME, profile.name)
        self.ctx.nvs_set_clamped(dm.NVS_AUTH_CHILD_AGE, profile.age)
        self.ctx.nvs_set(dm.NVS_AUTH_HB_INTERVAL, cfg.heartbeat_interval)
        self.ctx.nvs_set(dm.NVS_AUTH_CHUNK_BYTES, cfg.audio.chunk_bytes)
        self._set_deadline(claimed.expires_in)
        self.ctx.emit(
            ClaimOkEvent(
                device_session_id=claimed.device_session_id, child_id=profile.id, age=profile.age
            )
        )
        self._on_claimed(cfg.websocket_url)
        self._on_ready()

    def _set_deadline(self, expires_in_s: int) -> None:
        lifetime = expires_in_s * 1000
        self.access_deadline_ms = self.ctx.now_ms + lifetime
        margin = self.ctx.timing.token_refresh_margin_ms
        # A short-lived token (tests) still refreshes at half its life, never in a loop.
        self.ctx.arm("token_refresh", max(lifetime - margin, lifetime // 2))

    # --- refresh answers ----------------------------------------------------------------

    def _on_refresh(self, event: HttpEvent) -> None:
        answer = self._finish(event)
        if answer is None:
            return
        background = self._background
        if isinstance(answer, HttpResponse) and answer.status == 200:
            pair = parse_answer(answer.body, RefreshResponse.from_json)
            if isinstance(pair, BadAnswer):
                self._refresh_failed(bad_answer(200, "bad_response", pair), background, "retry")
                return
            self._refresh_failures = 0
            self.ctx.nvs_set(dm.NVS_AUTH_REFRESH_TOKEN, pair.refresh_token)
            self.ctx.nvs_set(dm.NVS_AUTH_ACCESS_TOKEN, pair.access_token)
            self._set_deadline(pair.expires_in)
            self.ctx.emit(TokenRefreshedEvent())
            if not background:
                self._on_ready()
            return
        failure = failure_of(answer)
        if isinstance(answer, HttpFailed) or answer.status >= 500 or answer.status == 429:
            self._refresh_failed(failure, background, "retry")
        else:
            # SPEC §3.2: on 401 discard both tokens and claim again with a fresh nonce.
            self._refresh_failed(failure, background, "claim")

    def _refresh_failed(self, why: Failure, background: bool, then: RefreshNext) -> None:
        """Print `token.refresh.fail` with what happens next, then do it (SPEC §3.2)."""
        delay = 0
        if then == "retry":
            self._refresh_failures += 1
            t = self.ctx.timing
            delay = backoff_ms(
                attempt=self._refresh_failures,
                base_ms=t.claim_backoff_base_ms,
                max_ms=t.claim_backoff_max_ms,
                jitter=t.claim_jitter,
                rng=self.ctx.rng,
            )
        self.ctx.emit(
            TokenRefreshFailEvent(
                status=why.status,
                code=why.code,
                next=then,
                retry_in_ms=delay,
                message=why.message,
                field=why.field,
            )
        )
        if then == "retry":
            self.ctx.arm("token_refresh" if background else "auth_retry", delay)
            return
        self.drop_tokens()
        if not background:
            self.claim()
