"""The device's WebSocket: handshake, refusals, close codes, reconnect and heartbeat.

Owns SPEC §6.1 on the device side (URL from the claim's `websocket_url` plus the
percent-encoded query, `Authorization: Bearer`, `ws.open` only on
`connection_established`, `ws.refused` with the URL, status and the server's reason and
message, the reaction to each 403 refusal reason) and SPEC §6.2 (one
reaction per close code: 4001 waits 60 s, 4008 reconnects at once, everything else backs
off 2 s doubling to 60 s ±20 %, reset after a connection lasted 60 s). Frames the server
should never send (bad JSON, unknown types, binary) print `error` and are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote as percent_encode
from urllib.parse import urlencode

from emulator.core.claim import Auth
from emulator.core.context import Ctx
from emulator.core.effects import WsClose, WsConnect, WsSend
from emulator.core.timing import backoff_ms
from protocol import device_model as dm
from protocol.constants import HEARTBEAT_INTERVAL_S, CloseCode
from protocol.device_events import ErrorEvent, WsCloseEvent, WsOpenEvent, WsRefusedEvent
from protocol.device_model import Timer
from protocol.errors import MessageError
from protocol.messages import (
    DeviceMessage,
    Heartbeat,
    ServerMessage,
    SystemMessage,
    encode_message,
    parse_server_message,
)
from protocol.server_answer import quote, server_error

# The quirk send_handshake: the original firmware's messages no SPEC §6.3 type covers
# (defect 9), compact JSON as every frame of the device.
LEGACY_FRAMES = (
    '{"type":"handshake","device_id":"legacy"}',
    '{"type":"stream_ack","chunk_id":0}',
    '{"type":"auth/refresh"}',
    '{"type":"system_status","status":"ok"}',
)

# SPEC §6.1: refusals that need the user to change a setting before any retry.
HOLD_REASONS = frozenset({"age_out_of_range", "invalid_query"})


class Link:
    """One WebSocket at a time; reports `on_open`, `on_lost` and parsed messages."""

    def __init__(
        self,
        ctx: Ctx,
        *,
        auth: Auth,
        on_open: Callable[[], None],
        on_lost: Callable[[], None],
        on_message: Callable[[ServerMessage], None],
    ) -> None:
        self.ctx = ctx
        self.auth = auth
        self._on_open = on_open
        self._on_lost = on_lost
        self._on_message = on_message
        self.conn_id: int | None = None
        self.is_open = False
        self.url = ""
        self.attempt = 0
        self.refusals = 0
        self.hold_reason: str | None = None
        self._opened_at_ms: int | None = None

    # --- connecting ---------------------------------------------------------------------

    def connect(self) -> None:
        """Open the WebSocket at the claim's `websocket_url` (SPEC §2.5, §6.1)."""
        if self.conn_id is not None or not self.ctx.wifi_up:
            return
        token, url = self.auth.access_token, self.auth.websocket_url
        if not token or not url:
            self.auth.authenticate()
            return
        self.ctx.disarm("ws_retry")
        self.ctx.set_state("connecting")
        self.url = url.split("?", 1)[0]
        self.conn_id = self.ctx.new_id()
        self.ctx.do(WsConnect(self.conn_id, f"{self.url}?{self._query()}", self._headers(token)))

    def _query(self) -> str:
        values = {
            "device_id": self.ctx.device_id,
            "child_id": self.ctx.child_id,
            "child_name": self.ctx.child_name,
            "child_age": str(self.ctx.child_age),
        }
        if self.ctx.quirk("no_percent_encoding"):  # SPEC Appendix C: the values as they are
            return "&".join(f"{name}={value}" for name, value in values.items())
        # SPEC §6.1: RFC 3986 percent-encoding, a space is %20
        return urlencode(values, quote_via=percent_encode)

    def _headers(self, token: str) -> tuple[tuple[str, str], ...]:
        """SPEC §6.1 `Authorization: Bearer <access_token>`, unless a quirk says otherwise."""
        if self.ctx.quirk("omit_authorization"):
            return ()
        presented = self.ctx.quirks.get("present_token") or token
        return (("Authorization", f"Bearer {presented}"),)

    def release_hold(self) -> None:
        """A setting changed (SPEC §9.2 `set`): a held refusal may succeed now."""
        if self.hold_reason is not None:
            self.hold_reason = None
            self.refusals = 0
            self.connect()

    def send(self, message: DeviceMessage) -> bool:
        return self.send_raw(encode_message(message))

    def send_raw(self, frame: str) -> bool:
        """Send one text frame as it is (a quirk may have changed it)."""
        if self.conn_id is None or not self.is_open:
            return False
        self.ctx.do(WsSend(self.conn_id, frame))
        return True

    def close(self, code: int, reason: str) -> None:
        """Device-initiated close (SPEC §6.2: 1000 `normal`, 1001 `reboot`/`ota`)."""
        if self.conn_id is None:
            return
        self.ctx.do(WsClose(self.conn_id, code, reason))
        self.ctx.emit(WsCloseEvent(code=code, reason=reason, url=self.url))
        self._detach()
        self.ctx.disarm("ws_retry")

    def _detach(self) -> None:
        self.conn_id = None
        self.is_open = False
        self.ctx.disarm("heartbeat")
        self._on_lost()

    # --- host reports -------------------------------------------------------------------

    def on_upgraded(self) -> None:
        self.ctx.log(f"websocket upgraded: {self.url}")

    def on_text(self, text: str) -> None:
        try:
            message = parse_server_message(text)
        except MessageError as exc:
            self.ctx.emit(ErrorEvent(code=exc.code, message=quote(f"server frame: {exc.message}")))
            return
        if isinstance(message, SystemMessage) and message.data_type == "connection_established":
            if not self.is_open:
                self._established()
            return
        self._on_message(message)

    def on_binary(self, size: int) -> None:
        message = f"server sent a binary frame of {size} bytes"
        self.ctx.emit(ErrorEvent(code="binary_not_supported", message=message))

    def _established(self) -> None:
        self.is_open = True
        self.refusals = 0
        self._opened_at_ms = self.ctx.now_ms
        self.ctx.emit(WsOpenEvent(url=self.url))
        if self.ctx.quirk("send_handshake") and self.conn_id is not None:
            for frame in LEGACY_FRAMES:  # SPEC Appendix C: the original firmware's types
                self.ctx.do(WsSend(self.conn_id, frame))
        self._arm_heartbeat()
        self._on_open()

    def on_refused(self, status: int, body: bytes) -> None:
        """SPEC §6.1 device reaction to a refused handshake (HTTP 403 + reason)."""
        said = server_error(status, body)
        reason = said.code
        self.ctx.emit(
            WsRefusedEvent(url=self.url, status=status, reason=reason, message=said.message)
        )
        self._detach()
        self.refusals += 1
        self.ctx.set_state("offline")
        if reason in HOLD_REASONS:
            self.hold_reason = reason
            self.ctx.log(f"websocket refused ({reason}); waiting for a settings change")
        elif self.refusals >= 3:
            self._schedule_retry(self._backoff())
        elif reason in ("session_revoked", "token_mismatch") or self.refusals == 2:
            self.auth.drop_tokens()
            self.auth.claim()
        else:
            # token_expired, invalid_token, or no readable reason: refresh once first.
            self.auth.refresh()

    def on_closed(self, code: int, reason: str) -> None:
        """SPEC §6.2: one reaction per close code."""
        lasted = 0 if self._opened_at_ms is None else self.ctx.now_ms - self._opened_at_ms
        was_open = self.is_open
        reason = quote(reason)  # the server's close reason (SPEC §8.1: one bounded line)
        self.ctx.emit(WsCloseEvent(code=code, reason=reason, url=self.url))
        self._detach()
        if was_open and lasted >= self.ctx.timing.reconnect_reset_ms:
            self.attempt = 0
        self.ctx.set_state("offline")
        if code == CloseCode.SESSION_REPLACED:
            # Two devices sharing an id would evict each other forever: hold off.
            self._schedule_retry(self.ctx.timing.session_replaced_holdoff_ms)
        elif code == CloseCode.IDLE_TIMEOUT:
            self._schedule_retry(0)
        else:
            self._schedule_retry(self._backoff())

    def _backoff(self) -> int:
        self.attempt += 1
        t = self.ctx.timing
        return backoff_ms(
            attempt=self.attempt,
            base_ms=t.reconnect_base_ms,
            max_ms=t.reconnect_max_ms,
            jitter=t.reconnect_jitter,
            rng=self.ctx.rng,
        )

    def _schedule_retry(self, delay_ms: int) -> None:
        self.ctx.log(f"websocket reconnect in {delay_ms} ms")
        self.ctx.arm("ws_retry", delay_ms)

    # --- timers -------------------------------------------------------------------------

    def on_timer(self, name: Timer) -> None:
        if name == "ws_retry":
            if self.auth.needs_refresh() or not self.auth.has_tokens():
                self.auth.authenticate()
            else:
                self.connect()
        elif name == "heartbeat" and self.is_open:
            fields: dict[str, object] = {
                "device_id": self.ctx.device_id,
                "uptime_ms": self.ctx.now_ms,
                "status": "alive",
            }
            self.send(Heartbeat(fields))
            self._arm_heartbeat()

    def _arm_heartbeat(self) -> None:
        interval = self.ctx.timing.heartbeat_interval_ms
        # The model's `ms_or_server` kind: null *or 0* means the server's interval, as in
        # the C core (0 ms would send heartbeats in a loop; device trace reconnect_backoff).
        if not interval:
            seconds = self.ctx.nvs_get(dm.NVS_AUTH_HB_INTERVAL) or HEARTBEAT_INTERVAL_S
            interval = seconds * 1000
        self.ctx.arm("heartbeat", interval)
