"""Shared state of one boot of the device core: clock, output, NVS view, timers, ids.

Owns the plumbing every core module uses: printing SPEC §8 event lines (the typed
classes of `protocol.device_events`) with the current uptime, the SPEC §8.3 `state`
transitions, the in-RAM copy of NVS (typed keys of `protocol.device_model`; every change
is also emitted as an `NvsSet` effect so the host makes it durable, in order), timers
(the model's `Timer` names), HTTP callbacks and the settings lookup (NVS value, else the
build default, SPEC §9.2; the child's name and age fall back on the claim's child
profile, SPEC §2.5) and the active device quirks (SPEC Appendix C: RAM only, the build's
come back at every boot). Nothing here reads a clock or touches I/O: `now_ms` is set by
`Device.handle`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

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
from protocol import device_model as dm
from protocol.device_events import DeviceEvent, StateEvent
from protocol.device_model import QUIRKS, STATES, NvsKey, NvsNamespace, Quirk, State, Timer
from protocol.eventline import format_event

__all__ = ["STATES", "Ctx", "HttpCallback", "NvsData", "State"]

NvsData = dict[str, dict[str, NvsValue]]
HttpCallback = Callable[[HttpEvent], None]
_V = TypeVar("_V", str, int)
# ESP-IDF NVS integer ranges: a value outside its key's type is a core bug.
_NVS_RANGES: Final = {"u32": (0, 2**32 - 1), "i32": (-(2**31), 2**31 - 1)}


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
        quirks: Mapping[Quirk, str] = {},
    ) -> None:
        self.boot = boot
        self.build = build
        self.nvs: NvsData = {ns: dict(values) for ns, values in nvs.items()}
        self.timing = timing
        self.rng = rng
        self.nonce_source = nonce_source
        self.now_ms = 0
        self.state: State = STATES[0]
        self.out: list[Effect] = []
        self.wifi_up = False
        # `wifi down` was typed: a join still in flight must not bring the link up (SPEC §9.2).
        self.wifi_off = False
        self.time_synced_epoch: int | None = None
        self.time_synced_at_ms = 0
        self._timers: dict[Timer, int] = {}
        self._http: dict[int, HttpCallback] = {}
        self._next_id = 0
        # SPEC Appendix C: quirk -> its value ("" for one that takes none); never in NVS.
        self.quirks: dict[Quirk, str] = dict(quirks)

    # --- quirks (SPEC Appendix C) ---------------------------------------------------

    def quirk(self, name: Quirk) -> bool:
        return name in self.quirks

    def active_quirks(self) -> tuple[Quirk, ...]:
        """The active quirks in the model's order (the `quirk` command's reply)."""
        return tuple(q for q in QUIRKS if q in self.quirks)

    # --- output ---------------------------------------------------------------------

    def emit(self, event: DeviceEvent) -> None:
        """Print an SPEC §8 event line stamped with the current uptime."""
        line = format_event(uptime_ms=self.now_ms, name=event.NAME, data=event.data())
        self.out.append(Print(line))

    def log(self, message: str) -> None:
        """Free text in the ESP-IDF log format (never starts with `@teddy `)."""
        self.out.append(Print(f"I ({self.now_ms}) teddy: {message}"))

    def do(self, effect: Effect) -> None:
        self.out.append(effect)

    def set_state(self, to: State) -> None:
        """SPEC §8.3: print `state{from,to}` on every change, never for a no-op."""
        if to != self.state:
            self.emit(StateEvent(from_=self.state, to=to))
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

    def arm(self, name: Timer, delay_ms: int) -> None:
        at_ms = self.now_ms + max(0, delay_ms)
        self._timers[name] = at_ms
        self.do(SetTimer(name, at_ms))

    def disarm(self, name: Timer) -> None:
        if self._timers.pop(name, None) is not None:
            self.do(CancelTimer(name))

    def fire(self, name: Timer, at_ms: int) -> bool:
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

    def nvs_get(self, key: NvsKey[_V]) -> _V | None:
        """The stored value of `key`, None when absent (or of another type)."""
        value = self.nvs.get(key.namespace, {}).get(key.key)
        if key.type == "str":
            return value if isinstance(value, str) else None  # type: ignore[return-value]
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value if ok else None  # type: ignore[return-value]

    def nvs_set(self, key: NvsKey[_V], value: _V) -> None:
        """Store `value` (of the key's NVS type) in RAM and emit NvsSet to persist it."""
        if key.type == "str" and not isinstance(value, str):
            raise TypeError(f"NVS {key.namespace}/{key.key} holds a str, got {value!r}")
        if key.type != "str":
            low, high = _NVS_RANGES[key.type]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise TypeError(f"NVS {key.namespace}/{key.key} holds a {key.type}, got {value!r}")
        self.nvs.setdefault(key.namespace, {})[key.key] = value
        self.do(NvsSet(key.namespace, key.key, value))

    def nvs_set_clamped(self, key: NvsKey[int], value: int) -> None:
        """Store an integer clamped to the key's NVS type (as C's dev_nvs_set_int does)."""
        low, high = _NVS_RANGES[key.type]
        self.nvs_set(key, min(high, max(low, value)))

    def nvs_erase(self, namespace: NvsNamespace) -> None:
        """Erase a whole namespace."""
        self.nvs.pop(namespace, None)
        self.do(NvsErase(namespace))

    @property
    def device_id(self) -> str:
        return self.nvs_get(dm.NVS_MFG_DEVICE_ID) or self.build.device_id

    @property
    def server_url(self) -> str:
        return (self.nvs_get(dm.NVS_SETTINGS_SERVER) or self.build.server_url).rstrip("/")

    @property
    def child_id(self) -> str:
        return self.nvs_get(dm.NVS_SETTINGS_CHILD_ID) or self.build.child_id

    @property
    def child_name(self) -> str:
        """SPEC §9.2: `set child_name`, else the build's, else the claim's (else "")."""
        return (
            self.nvs_get(dm.NVS_SETTINGS_CHILD_NAME)
            or self.build.child_name
            or self.nvs_get(dm.NVS_AUTH_CHILD_NAME)
            or ""
        )

    @property
    def child_age(self) -> int:
        """SPEC §9.2: `set child_age`, else the build's, else the claim's child_profile.age."""
        for age in (
            self.nvs_get(dm.NVS_SETTINGS_CHILD_AGE),
            self.build.child_age,
            self.nvs_get(dm.NVS_AUTH_CHILD_AGE),
        ):
            if age is not None:
                return age
        return dm.FALLBACK_CHILD_AGE

    @property
    def volume(self) -> int:
        volume = self.nvs_get(dm.NVS_SETTINGS_VOLUME)
        return self.build.volume if volume is None else volume
