"""The device configuration document of SPEC §4.1 and its stored overrides.

Defaults come from the settings and the newest release; an operator (or a scenario's
``given:``) changes a value with ``Store.set_config`` and every device sees a new ETag.
"""

from __future__ import annotations

from protocol.constants import CHAT_PATH, CONFIG_KEYS, FIRMWARE_PATH
from server.releases import current_release
from server.settings import ServerSettings
from server.store import Store

DEFAULT_NTP = ["pool.ntp.org", "time.google.com", "time.cloudflare.com"]


def config_body(
    *, settings: ServerSettings, store: Store, host: str, port: int, chip: str = "esp32"
) -> dict[str, object]:
    release = current_release(store, chip=chip)
    body: dict[str, object] = {
        "host": host,
        "port": port,
        "tls": settings.tls,
        "ws_path": CHAT_PATH,
        "firmware_endpoint": FIRMWARE_PATH,
        "ntp": list(DEFAULT_NTP),
        "features": {
            "ota": True,
            "strict_tls": settings.tls,
            "audio_streaming": True,
            "child_safety": True,
        },
        "app_version": settings.app_version,
        "firmware_version": release.version if release else settings.default_firmware_version,
        "heartbeat_interval": settings.heartbeat_interval_s,
    }
    for key, value in store.config_overrides().items():
        if key in CONFIG_KEYS:
            body[key] = value
    return body
