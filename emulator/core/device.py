"""The emulated firmware's application: one sans-I/O state machine per boot.

Owns the boot sequence and the dispatch of inputs (SPEC §8.3 states): `boot` -> `wifi`
-> `config` (ETag cache, SPEC §4.3) -> `time_sync` -> `claiming` (claim or refresh,
SPEC §2, §3.2) -> `connecting` (SPEC §6.1) -> `idle` / `listening` / `thinking` /
`speaking`, with `updating` for a firmware download and `offline` while retrying.

Usage (the host does exactly this; so does the C firmware's main loop):

    device = Device(boot=..., build=..., nvs=..., timing=..., rng=..., nonce_source=...)
    effects = device.start(now_ms=0)
    effects = device.handle(WifiUp("10.0.0.2"), now_ms=15)

No I/O, no clock: effects come back in the order they must be carried out.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from emulator.core.boot import BootInfo, BuildConfig
from emulator.core.chat import Chat
from emulator.core.claim import Auth
from emulator.core.commands import Commands
from emulator.core.config import ConfigSync
from emulator.core.context import Ctx, NvsData
from emulator.core.effects import (
    Effect,
    OtaAckRollback,
    Reboot,
    SetVolume,
    SyncTime,
    WifiConnect,
    WifiDisconnect,
)
from emulator.core.inputs import (
    CaptureChunk,
    CaptureEnded,
    CaptureFailed,
    CaptureStarted,
    ConsoleLine,
    HttpFailed,
    HttpResponse,
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
    Input,
    PlaybackDone,
    SlotData,
    TimerFired,
    TimeSynced,
    WifiDown,
    WifiUp,
    WsBinary,
    WsClosed,
    WsOpened,
    WsRefused,
    WsText,
)
from emulator.core.link import Link
from emulator.core.ota import Ota
from emulator.core.timing import DeviceTiming
from protocol.device_events import (
    BootEvent,
    OtaRollbackEvent,
    TimeSyncedEvent,
    WifiDownEvent,
    WifiUpEvent,
)
from protocol.device_model import TIMER_OWNERS, Quirk, State, Timer

# Retries that make no sense without a link (SPEC §9.2 `wifi down`).
_NETWORK_TIMERS: tuple[Timer, ...] = ("ws_retry", "claim_retry", "auth_retry", "config_refresh")


class Device:
    """The application core of one boot; rebuilt (like RAM) at every boot."""

    def __init__(
        self,
        *,
        boot: BootInfo,
        build: BuildConfig,
        nvs: NvsData,
        timing: DeviceTiming,
        rng: random.Random,
        nonce_source: Callable[[], bytes],
        quirks: Mapping[Quirk, str] = {},
    ) -> None:
        self.ctx = ctx = Ctx(
            boot=boot,
            build=build,
            nvs=nvs,
            timing=timing,
            rng=rng,
            nonce_source=nonce_source,
            quirks=quirks,
        )
        self.config = ConfigSync(ctx, on_done=self._after_config)
        self.auth = Auth(ctx, on_ready=self._connect, on_claimed=self.config.check_ws_path)
        self.link = Link(
            ctx,
            auth=self.auth,
            on_open=self._on_ws_open,
            on_lost=self._on_ws_lost,
            on_message=lambda message: self.chat.on_message(message),
        )
        self.chat = Chat(ctx, link=self.link, settle=self.settle)
        self.ota = Ota(
            ctx,
            is_idle=lambda: self.chat.idle,
            enabled=lambda: self.config.ota_enabled,
            before_reboot=self.going_down,
            settle=self.settle,
        )
        self.commands = Commands(self)

    @property
    def state(self) -> State:
        return self.ctx.state

    # --- entry points -------------------------------------------------------------------

    def start(self, *, now_ms: int) -> list[Effect]:
        """Power-on: print `boot` (SPEC §8.2), report a rollback, join Wi-Fi."""
        ctx, boot = self.ctx, self.ctx.boot
        ctx.now_ms = now_ms
        ctx.emit(
            BootEvent(
                fw_version=boot.fw_version,
                slot=boot.slot,
                reset_reason=boot.reset_reason,
                device_id=ctx.device_id,
            )
        )
        if boot.rollback is not None:
            rb = boot.rollback
            ctx.emit(OtaRollbackEvent(from_=rb.from_version, to=rb.to_version, reason=rb.reason))
            self.ota.on_rollback_reported(rb.from_version)
            ctx.do(OtaAckRollback())
        self.ota.on_boot()
        if boot.behaviour.panic_after_ms is not None:
            ctx.arm("panic", boot.behaviour.panic_after_ms)
        ctx.do(SetVolume(ctx.volume))  # the DAC starts at the stored volume (SPEC §9.2)
        ctx.set_state("wifi")
        ctx.do(WifiConnect())
        return ctx.take()

    def handle(self, event: Input, *, now_ms: int) -> list[Effect]:
        """Process one input that happened at uptime `now_ms`; returns the effects."""
        self.ctx.now_ms = max(self.ctx.now_ms, now_ms)  # uptime never goes back (SPEC §8.1)
        self._dispatch(event)
        return self.ctx.take()

    def _dispatch(self, event: Input) -> None:
        ctx = self.ctx
        if isinstance(event, ConsoleLine):
            self.commands.handle(event.text)
        elif isinstance(event, TimerFired):
            if ctx.fire(event.name, event.at_ms):
                self._on_timer(event.name)
        elif isinstance(event, WifiUp):
            self._on_wifi_up(event.ip)
        elif isinstance(event, WifiDown):
            if ctx.wifi_up:
                self.wifi_lost(by_user=False)
        elif isinstance(event, TimeSynced):
            ctx.time_synced_epoch, ctx.time_synced_at_ms = event.epoch, ctx.now_ms
            ctx.emit(TimeSyncedEvent(epoch=event.epoch))
            self.auth.authenticate()
        elif isinstance(
            event, HttpResponse | HttpFailed | HttpStreamStart | HttpStreamData | HttpStreamEnd
        ):
            callback = ctx.route_http(event.req_id)
            if callback is not None:
                callback(event)
        elif isinstance(event, WsOpened | WsRefused | WsText | WsBinary | WsClosed):
            self._on_ws_event(event)
        else:
            self._on_audio_or_flash(event)

    def _on_ws_event(self, event: WsOpened | WsRefused | WsText | WsBinary | WsClosed) -> None:
        if event.conn_id != self.link.conn_id:
            return  # a connection the device already gave up
        if isinstance(event, WsOpened):
            self.link.on_upgraded()
        elif isinstance(event, WsRefused):
            self.link.on_refused(event.status, event.body)
        elif isinstance(event, WsText):
            self.link.on_text(event.text)
        elif isinstance(event, WsBinary):
            self.link.on_binary(event.size)
        else:
            self.link.on_closed(event.code, event.reason)

    def _on_audio_or_flash(self, event: Input) -> None:
        chat = self.chat
        if isinstance(event, CaptureStarted):
            chat.on_capture_started(event.capture_id)
        elif isinstance(event, CaptureFailed):
            chat.on_capture_failed(event.capture_id, event.reason, event.message)
        elif isinstance(event, CaptureChunk):
            chat.on_capture_chunk(event.capture_id, event.pcm)
        elif isinstance(event, CaptureEnded):
            chat.on_capture_ended(event.capture_id)
        elif isinstance(event, PlaybackDone):
            chat.on_playback_done(event.audio_session_id)
        elif isinstance(event, SlotData):
            download = self.ota.download
            if download is not None and download.reading and download.slot == event.slot:
                download.on_slot_data(event.offset, event.data)

    def _on_timer(self, name: Timer) -> None:
        owner = TIMER_OWNERS[name]  # which module a timer belongs to is the model's
        if owner == "claim":
            self.auth.on_timer(name)
        elif owner == "link":
            self.link.on_timer(name)
        elif owner == "ota":
            self.ota.on_timer(name)
        elif owner == "config":
            if self.ctx.wifi_up and not self.config.busy:
                self.config.fetch(continue_boot=False)
        elif name == "panic":
            self.ctx.log("Guru Meditation Error: Core 0 panic'ed (behaviour marker)")
            self.ctx.do(Reboot("panic"))

    # --- boot sequence ------------------------------------------------------------------

    def _on_wifi_up(self, ip: str) -> None:
        if self.ctx.wifi_up or self.ctx.wifi_off:  # wifi_off: `wifi down` during the join
            return
        self.ctx.wifi_up = True
        self.ctx.emit(WifiUpEvent(ip=ip))
        self.ctx.set_state("config")
        self.config.fetch(continue_boot=True)

    def _after_config(self) -> None:
        if not self.ctx.wifi_up:
            return
        if self.ctx.time_synced_epoch is None:
            self.ctx.set_state("time_sync")
            self.ctx.do(SyncTime())
        else:
            self.auth.authenticate()

    def _connect(self) -> None:
        self.link.connect()

    def wifi_lost(self, *, by_user: bool) -> None:
        """`wifi down` (close 1000 first, SPEC §9.2) or a lost link: stop all networking."""
        ctx = self.ctx
        if by_user:
            self.link.close(1000, "normal")
        elif self.link.conn_id is not None:
            self.link.on_closed(1006, "wifi_lost")
        for name in _NETWORK_TIMERS:
            ctx.disarm(name)
        self.config.cancel()
        self.auth.cancel()
        ctx.wifi_up = False
        ctx.do(WifiDisconnect())
        ctx.emit(WifiDownEvent())
        ctx.set_state("offline")

    def going_down(self, reason: str) -> None:
        """About to reset: close the WebSocket with 1001 + reason (SPEC §6.2)."""
        self.link.close(1001, reason)

    # --- connection and chat --------------------------------------------------------------

    def _on_ws_open(self) -> None:
        self.settle()
        self.ota.on_ws_open()

    def _on_ws_lost(self) -> None:
        self.chat.on_link_lost()

    def settle(self) -> None:
        """Recompute the connected sub-state (SPEC §8.3) after a chat or OTA change."""
        ctx = self.ctx
        if self.ota.updating:
            ctx.set_state("updating")
        elif self.link.is_open:
            sub = self.chat.substate()
            ctx.set_state(sub)
            if sub == "idle":
                self.ota.on_idle()
        elif ctx.state == "updating":
            ctx.set_state("offline" if ctx.wifi_up else "wifi")
