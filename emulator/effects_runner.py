"""Carries out the core's effects for one boot: timers, flash, Wi-Fi, time, network, audio.

Owns the mapping from each `emulator.core.effects` type to its driver call. One runner
lives exactly as long as one boot; `abort` (power cut or reset) cancels every task it
started and drops every connection without a close frame.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx

from emulator.audio import append_wav, as_pacing
from emulator.core.boot import Behaviour
from emulator.core.effects import (
    CancelTimer,
    Effect,
    HttpCancel,
    HttpRequest,
    NvsErase,
    NvsSet,
    OtaAckRollback,
    OtaMarkInvalid,
    OtaMarkValid,
    OtaSetBoot,
    Play,
    PlayEnd,
    Print,
    Reboot,
    SaveAudio,
    SetTimer,
    SetVolume,
    SlotErase,
    SlotRead,
    SlotWrite,
    StartCapture,
    StopCapture,
    SyncTime,
    WifiConnect,
    WifiDisconnect,
    WsClose,
    WsConnect,
    WsSend,
)
from emulator.core.inputs import Input, SlotData, TimerFired, TimeSynced, WifiUp
from emulator.flash import Flash
from emulator.media import CaptureRunner, Speaker
from emulator.net import HttpAdapter, WsAdapter
from protocol.device_model import EMULATED_WIFI_IP, ResetReason, Timer

if TYPE_CHECKING:  # emulator.host imports this module
    from emulator.host import DeviceSettings


class EffectRunner:
    """Drivers of one boot."""

    def __init__(
        self,
        *,
        settings: DeviceSettings,
        flash: Flash,
        behaviour: Behaviour,
        post: Callable[[Input], None],
        uptime_ms: Callable[[], int],
        print_line: Callable[[str], None],
        reboot: Callable[[ResetReason], None],
        http_transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.settings = settings
        self.flash = flash
        self._post = post
        self._uptime_ms = uptime_ms
        self._print = print_line
        self._reboot = reboot
        timeout_s = settings.timing.http_timeout_ms / 1000
        broken = behaviour.network_broken  # the image's TEDDY-BEHAVIOUR marker
        self.http = HttpAdapter(
            post=post, timeout_s=timeout_s, transport=http_transport, broken=broken
        )
        self.ws = WsAdapter(post=post, open_timeout_s=timeout_s, broken=broken)
        pacing = as_pacing(settings.pacing)
        self.capture = CaptureRunner(
            post=post,
            pacing=pacing,
            audio_dir=settings.audio_dir,
            microphone=settings.microphone,
        )
        self.speaker = Speaker(
            post=post, pacing=pacing, audio_dir=settings.audio_dir, device=settings.speaker
        )
        self._timers: dict[Timer, asyncio.Task[None]] = {}
        self._recordings: set[str] = set()  # save_audio names created this boot
        self._tasks: set[asyncio.Task[None]] = set()
        self.closing: asyncio.Task[None] | None = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def apply(self, effect: Effect) -> None:
        """Carry out one effect; flash effects are complete when this returns."""
        if isinstance(effect, Print):
            self._print(effect.line)
        elif isinstance(effect, SetTimer | CancelTimer):
            self._timer(effect)
        elif isinstance(effect, NvsSet):
            self.flash.nvs_set(effect.namespace, effect.key, effect.value)
        elif isinstance(effect, NvsErase):
            self.flash.nvs_erase(effect.namespace, effect.key)
        elif isinstance(effect, HttpRequest):
            self.http.request(effect)
        elif isinstance(effect, HttpCancel):
            self.http.cancel(effect.req_id)
        elif isinstance(effect, WsConnect):
            self.ws.connect(effect)
        elif isinstance(effect, WsSend):
            self.ws.send(effect)
        elif isinstance(effect, WsClose):
            self.ws.close(effect)
        elif isinstance(effect, StartCapture):
            self.capture.start(effect)
        elif isinstance(effect, StopCapture):
            self.capture.stop(effect.capture_id)
        elif isinstance(effect, Play | PlayEnd):
            self.speaker.enqueue(effect)
        elif isinstance(effect, SaveAudio):
            self._save_audio(effect)
        elif isinstance(effect, SetVolume):
            self.speaker.set_volume(effect.volume)
        elif isinstance(effect, Reboot):
            self._reboot(effect.reason)
        else:
            self._system(effect)

    def _system(self, effect: Effect) -> None:
        if isinstance(effect, WifiConnect):
            self.http.online = self.ws.online = True
            self._spawn(self._join_wifi())
        elif isinstance(effect, WifiDisconnect):
            self.http.online = self.ws.online = False
            self.http.abort_all()
            self._spawn(self._drop_links(self.ws.connection_ids()))
        elif isinstance(effect, SyncTime):
            self._post(TimeSynced(int(time.time())))
        elif isinstance(effect, SlotErase):
            self.flash.erase_slot(effect.slot)
        elif isinstance(effect, SlotWrite):
            self.flash.write_slot(effect.slot, effect.offset, effect.data)
        elif isinstance(effect, SlotRead):
            data = self.flash.read_slot(effect.slot, effect.offset, effect.length)
            self._post(SlotData(effect.slot, effect.offset, data))
        elif isinstance(effect, OtaSetBoot):
            self.flash.set_boot(effect.slot)
        elif isinstance(effect, OtaMarkValid):
            self.flash.mark_valid(effect.slot, effect.secure_version)
        elif isinstance(effect, OtaMarkInvalid):
            self.flash.mark_invalid(effect.slot, effect.reason)
        elif isinstance(effect, OtaAckRollback):
            self.flash.ack_rollback()

    def _save_audio(self, effect: SaveAudio) -> None:
        """Append to the recording (the first save of a name this boot starts it afresh)."""
        create = effect.name not in self._recordings
        self._recordings.add(effect.name)
        append_wav(self.settings.audio_dir / effect.name, effect.pcm, create=create)

    def _timer(self, effect: SetTimer | CancelTimer) -> None:
        old = self._timers.pop(effect.name, None)
        if old is not None:
            old.cancel()
        if isinstance(effect, SetTimer):
            delay_s = max(0.0, (effect.at_ms - self._uptime_ms()) / 1000)
            self._timers[effect.name] = asyncio.create_task(
                self._fire(effect.name, effect.at_ms, delay_s)
            )

    async def _fire(self, name: Timer, at_ms: int, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        if self._timers.get(name) is asyncio.current_task():
            del self._timers[name]
        self._post(TimerFired(name, at_ms))

    async def _join_wifi(self) -> None:
        await asyncio.sleep(self.settings.timing.wifi_join_ms / 1000)
        self._post(WifiUp(EMULATED_WIFI_IP))

    async def _drop_links(self, conn_ids: list[int]) -> None:
        await self.ws.flush(0.5)  # `wifi down` sends its 1000 close first (SPEC §9.2)
        self.ws.abort(conn_ids)  # not connections opened after a quick `wifi up`

    def abort(self) -> None:
        """Power is gone: cancel everything, drop connections, close the HTTP client."""
        for task in (*self._timers.values(), *self._tasks):
            task.cancel()
        self._timers.clear()
        self.http.abort_all()
        self.ws.abort_all()
        self.capture.abort_all()
        self.speaker.abort()
        self.closing = asyncio.ensure_future(self.http.aclose())
