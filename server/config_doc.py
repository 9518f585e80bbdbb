"""The server's copy of the device configuration document (SPEC §4.1, `protocol.config_doc`).

Values come from the settings and the newest release; an operator (or a scenario's
``given:``) changes a value with ``Store.set_config`` and every device sees a new ETag.
"""

from __future__ import annotations

from protocol.config_doc import ConfigDocument, Features
from server.releases import current_release
from server.settings import ServerSettings
from server.store import Store


def config_body(
    *, settings: ServerSettings, store: Store, host: str, port: int, chip: str = "esp32"
) -> dict[str, object]:
    """The body devices get: settings and the newest release, then stored overrides."""
    release = current_release(store, chip=chip)
    document = ConfigDocument(
        host=host,
        port=port,
        tls=settings.tls,
        features=Features(strict_tls=settings.tls),
        app_version=settings.app_version,
        firmware_version=release.version if release else settings.default_firmware_version,
        heartbeat_interval=settings.heartbeat_interval_s,
        ws_path=settings.chat_path,
    )
    return document.to_json(store.config_overrides())
