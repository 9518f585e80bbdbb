"""The device configuration document of SPEC §4.1, as servers write it.

Owns `ConfigDocument` (with `Features`) and `CONFIG_KEYS`, the keys an operator, a
provisioning file or a scenario may override: they are the document's own field names,
so the list cannot drift from the body. Overrides replace a key's value as given, even
with a value of another type, because scenarios check that devices survive a bad config
(SPEC §4.3: config is never a reason to stop booting).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Final

from protocol.constants import CHAT_PATH, FIRMWARE_PATH, HEARTBEAT_INTERVAL_S

DEFAULT_NTP: Final = ("pool.ntp.org", "time.google.com", "time.cloudflare.com")


@dataclass(frozen=True)
class Features:
    """`features` of the config body (SPEC §4.1)."""

    ota: bool = True
    strict_tls: bool = False
    audio_streaming: bool = True
    child_safety: bool = True

    def to_json(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ConfigDocument:
    """GET /api/v1/esp32/config body (SPEC §4.1), in the documented member order."""

    host: str
    port: int
    tls: bool = False
    ws_path: str = CHAT_PATH
    firmware_endpoint: str = FIRMWARE_PATH
    ntp: tuple[str, ...] = DEFAULT_NTP
    features: Features = field(default_factory=Features)
    app_version: str = "1.3.0"
    firmware_version: str = "1.0.0"
    heartbeat_interval: int = HEARTBEAT_INTERVAL_S

    def to_json(self, overrides: Mapping[str, object] | None = None) -> dict[str, object]:
        """The body; `overrides` (keys of CONFIG_KEYS) replace members as given."""
        body: dict[str, object] = {}
        for member in fields(self):
            value = getattr(self, member.name)
            if isinstance(value, Features):
                value = value.to_json()
            elif isinstance(value, tuple):
                value = list(value)
            body[member.name] = value
        for key, value in (overrides or {}).items():
            if key in CONFIG_KEYS:
                body[key] = value
        return body


CONFIG_KEYS: Final = tuple(f.name for f in fields(ConfigDocument))
