"""Shared state of one boot of the device core: clock, output, NVS view, timers, ids.

Owns the plumbing every core module uses: formatting SPEC §8 event lines with the
current uptime, the SPEC §8.3 `state` transitions, the in-RAM copy of NVS (every change
is also emitted as an `NvsSet` effect so the host makes it durable, in order), timers,
HTTP callbacks and the settings lookup (NVS value, else the build default, SPEC §9.2).
Nothing here reads a clock or touches I/O: `now_ms` is set by `Device.handle`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final, Literal, get_args

from emulator.core.boot import BootInfo, BuildConfig
from emulator.core.effects import (
    CancelTimer,
    Effect,
    HttpCancel,
    HttpRequest,
    NvsErase,
    NvsSet,
    NvsValue,
    Print,
    SetTimer,
)
from emulator.core.inputs import HttpEvent
from emulator.core.timing import DeviceTiming
from protocol.eventline import format_event

State = Literal[
    "boot",
    "wifi",
    "time_sync",
    "config",
    "claiming",
    "connecting",
    "idle",
    "listening",
    "thinking",
    "speaking",
    "updating",
    "offline",
]
STATES: Final[tuple[State, ...]] = get_args(State)  # SPEC §8.3, in that order
NvsData = dict[str, dict[str, NvsValue]]
HttpCallback = Callable[[HttpEvent], None]

# NVS namespaces (SPEC §2.1 `mfg`; the rest are this firmware's own layout).
NS_MFG: Final = "mfg"  # device_id, oob_secret: survive factory-reset
NS_SYS: Final = "sys"  # boot_count
NS_SETTINGS: Final = "settings"  # SPEC §9.2 set/get keys
NS_AUTH: Final = "auth"  # tokens and the claim's device_config
NS_CFG: Final = "cfg"  # config body + ETag (SPEC §4.3)
NS_OTA: Final = "ota"  # manifest cache, last rolled-back version
NS_OTA_DL: Final = "ota_dl"  # download progress (SPEC §5.2 resume)


class Ctx:
    """Everything one boot of the core shares; rebuilt at every boot like RAM."""

    def __init__(
        self,
        *,
        boot: BootInfo,
        build: BuildConfig,
        nvs: NvsData,
        timing: DeviceTiming,
        rng: random.Random,
        nonce_source: Callable[[], bytes],
    ) -> None:
        self.boot = boot
        self.build = build
        self.nvs: NvsData = {ns: dict(values) for ns, values in nvs.items()}
        self.timing = timing
        self.rng = rng
        self.nonce_source = nonce_source
        self.now_ms = 0
        self.state: State = "boot"
        self.out: list[Effect] = []
        self.wifi_up = False
        # `wifi down` was typed: a join still in flight must not bring the link up (SPEC §9.2).
        self.wifi_off = False
        self.time_synced_epoch: int | None = None
        self.time_synced_at_ms = 0
        self._timers: dict[str, int] = {}
        self._http: dict[int, HttpCallback] = {}
        self._next_id = 0

    # --- output ---------------------------------------------------------------------

    def emit(self, name: str, data: dict[str, object] | None = None) -> None:
        """Print an SPEC §8 event line stamped with the current uptime."""
        self.out.append(Print(format_event(uptime_ms=self.now_ms, name=name, data=data or {})))

    def log(self, message: str) -> None:
        """Free text in the ESP-IDF log format (never starts with `@teddy `)."""
        self.out.append(Print(f"I ({self.now_ms}) teddy: {message}"))

    def do(self, effect: Effect) -> None:
        self.out.append(effect)

    def set_state(self, to: State) -> None:
        """SPEC §8.3: print `state{from,to}` on every change, never for a no-op."""
        if to != self.state:
            self.emit("state", {"from": self.state, "to": to})
            self.state = to

    def take(self) -> list[Effect]:
        out, self.out = self.out, []
        return out

    def wall_clock(self) -> int | None:
        """Epoch seconds from the last SNTP sync and uptime since, None before a sync."""
        if self.time_synced_epoch is None:
            return None
        return self.time_synced_epoch + (self.now_ms - self.time_synced_at_ms) // 1000

    # --- ids, timers ----------------------------------------------------------------

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def arm(self, name: str, delay_ms: int) -> None:
        at_ms = self.now_ms + max(0, delay_ms)
        self._timers[name] = at_ms
        self.do(SetTimer(name, at_ms))

    def disarm(self, name: str) -> None:
        if self._timers.pop(name, None) is not None:
            self.do(CancelTimer(name))

    def fire(self, name: str, at_ms: int) -> bool:
        """True when this firing is current (not cancelled or re-armed meanwhile)."""
        if self._timers.get(name) != at_ms:
            return False
        del self._timers[name]
        return True

    # --- HTTP -----------------------------------------------------------------------

    def http(
        self,
        method: str,
        url: str,
        *,
        on_event: HttpCallback,
        headers: tuple[tuple[str, str], ...] = (),
        body: str | None = None,
        stream: bool = False,
    ) -> int:
        req_id = self.new_id()
        self._http[req_id] = on_event
        self.do(HttpRequest(req_id, method, url, headers, body, stream))
        return req_id

    def http_done(self, req_id: int) -> None:
        """Stop routing events of `req_id` (after its final event)."""
        self._http.pop(req_id, None)

    def http_cancel(self, req_id: int | None) -> None:
        if req_id is not None and self._http.pop(req_id, None) is not None:
            self.do(HttpCancel(req_id))

    def route_http(self, req_id: int) -> HttpCallback | None:
        return self._http.get(req_id)

    # --- NVS and settings -----------------------------------------------------------

    def nvs_get(self, namespace: str, key: str) -> NvsValue | None:
        return self.nvs.get(namespace, {}).get(key)

    def nvs_str(self, namespace: str, key: str) -> str | None:
        value = self.nvs_get(namespace, key)
        return value if isinstance(value, str) else None

    def nvs_int(self, namespace: str, key: str) -> int | None:
        value = self.nvs_get(namespace, key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def nvs_set(self, namespace: str, key: str, value: NvsValue) -> None:
        self.nvs.setdefault(namespace, {})[key] = value
        self.do(NvsSet(namespace, key, value))

    def nvs_erase(self, namespace: str, key: str | None = None) -> None:
        if key is None:
            self.nvs.pop(namespace, None)
        else:
            self.nvs.get(namespace, {}).pop(key, None)
        self.do(NvsErase(namespace, key))

    @property
    def device_id(self) -> str:
        return self.nvs_str(NS_MFG, "device_id") or self.build.device_id

    @property
    def server_url(self) -> str:
        return (self.nvs_str(NS_SETTINGS, "server") or self.build.server_url).rstrip("/")

    @property
    def child_id(self) -> str:
        return self.nvs_str(NS_SETTINGS, "child_id") or self.build.child_id

    @property
    def child_name(self) -> str:
        return self.nvs_str(NS_SETTINGS, "child_name") or self.build.child_name

    @property
    def child_age(self) -> int:
        age = self.nvs_int(NS_SETTINGS, "child_age")
        return self.build.child_age if age is None else age

    @property
    def volume(self) -> int:
        volume = self.nvs_int(NS_SETTINGS, "volume")
        return self.build.volume if volume is None else volume
