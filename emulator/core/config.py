"""The device side of the config document: ETag-cached fetch and its use (SPEC §4.3).

Owns `ConfigSync`. At boot after Wi-Fi, and again when the cached copy is older than
max-age, the device GETs the config with `If-None-Match: <stored ETag>`; 200 stores body
and ETag in NVS (`config.ok{cached:false}`), 304 keeps the copy (`config.ok{cached:true}`),
anything else prints `config.fail{status,error,message,field}` (SPEC §8.2: what the server
said, or what was wrong with a 200 body) and the device carries on with its cached copy or
the compiled-in defaults: config is never a reason to stop booting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

from emulator.core.answers import Failure, as_object, bad_answer, failure_of, parse_answer
from emulator.core.context import Ctx
from emulator.core.inputs import HttpEvent, HttpFailed, HttpResponse
from protocol import device_model as dm
from protocol.constants import CHAT_PATH, CONFIG_PATH, HEARTBEAT_INTERVAL_S
from protocol.device_events import ConfigFailEvent, ConfigOkEvent, ErrorEvent
from protocol.server_answer import BadAnswer


class ConfigSync:
    """Fetches and caches the config; `on_done` continues the boot sequence."""

    def __init__(self, ctx: Ctx, *, on_done: Callable[[], None]) -> None:
        self.ctx = ctx
        self._on_done = on_done
        self._req: int | None = None
        self._continue = False

    @property
    def busy(self) -> bool:
        return self._req is not None

    def fetch(self, *, continue_boot: bool) -> None:
        """Start a conditional GET; with `continue_boot` call `on_done` when it ends."""
        self.ctx.http_cancel(self._req)
        self._continue = continue_boot
        headers: tuple[tuple[str, str], ...] = ()
        etag = self.ctx.nvs_get(dm.NVS_CFG_ETAG)
        # The quirk ignore_etag drops the §4.3 conditional request (SPEC Appendix C).
        if etag and self.ctx.nvs_get(dm.NVS_CFG_BODY) and not self.ctx.quirk("ignore_etag"):
            headers = (("If-None-Match", etag),)
        self._req = self.ctx.http(
            "GET", self.ctx.server_url + CONFIG_PATH, headers=headers, on_event=self._on_event
        )

    def cancel(self) -> None:
        self.ctx.http_cancel(self._req)
        self._req = None

    def _on_event(self, event: HttpEvent) -> None:
        if not isinstance(event, HttpResponse | HttpFailed):
            return
        self.ctx.http_done(event.req_id)
        self._req = None
        if isinstance(event, HttpFailed):
            self._fail(failure_of(event), error=event.reason)
        elif event.status == 304:
            etag = event.headers.get("etag") or self.ctx.nvs_get(dm.NVS_CFG_ETAG) or ""
            self.ctx.emit(ConfigOkEvent(etag=etag, cached=True))
        elif event.status == 200:
            self._store(event)
        else:
            failure = failure_of(event)
            self._fail(failure, error=failure.code)
        self.ctx.arm("config_refresh", self.ctx.timing.config_max_age_ms)
        if self._continue:
            self._continue = False
            self._on_done()

    def _fail(self, why: Failure, *, error: str) -> None:
        self.ctx.emit(
            ConfigFailEvent(status=why.status, error=error, message=why.message, field=why.field)
        )

    def _store(self, response: HttpResponse) -> None:
        body = parse_answer(response.body, as_object)  # SPEC §4.3: lenient, but an object
        if isinstance(body, BadAnswer):
            self._fail(bad_answer(200, "bad_body", body), error="bad_body")
            return
        etag = response.headers.get("etag", "")
        # Body first: a power cut between the two writes leaves a body without its
        # ETag, which only costs a full 200 next time (never a stale 304 match).
        self.ctx.nvs_set(dm.NVS_CFG_BODY, json.dumps(body, separators=(",", ":")))
        self.ctx.nvs_set(dm.NVS_CFG_ETAG, etag)
        self.ctx.emit(ConfigOkEvent(etag=etag, cached=False))

    # --- the cached document (SPEC §4.1 "device use") -------------------------------

    def body(self) -> dict[str, object]:
        raw = self.ctx.nvs_get(dm.NVS_CFG_BODY)
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    @property
    def heartbeat_interval_s(self) -> int:
        value = self.body().get("heartbeat_interval")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        return HEARTBEAT_INTERVAL_S

    @property
    def ota_enabled(self) -> bool:
        features = self.body().get("features")
        if isinstance(features, dict) and isinstance(features.get("ota"), bool):
            return bool(features["ota"])
        return True

    def check_ws_path(self, websocket_url: str) -> None:
        """SPEC §4.1: `ws_path` must equal the claim's URL path, else `config_mismatch`."""
        ws_path = self.body().get("ws_path", CHAT_PATH)
        actual = urlsplit(websocket_url).path
        if isinstance(ws_path, str) and ws_path != actual:
            message = f"config ws_path {ws_path} != websocket_url path {actual}"
            self.ctx.emit(ErrorEvent(code="config_mismatch", message=message))
