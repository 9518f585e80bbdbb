"""Over-the-air update on the device: check, decide, download with resume, verify, apply.

Owns SPEC §5.4 (manifest check with ETag, the update decision table, streaming
verification with `protocol.manifest.ImageVerifier`; every `ota.none` carries the
manifest answer's status and, SPEC §8.2, what the server said or which field of the
manifest was wrong), SPEC §5.2 device download (resume
with `Range: bytes=<received>-` + `If-Range`, accept a 206 only when it starts at the
received count, a 200 restarts, give up after 5 failed attempts) and the app side of SPEC
§5.5 (write the inactive slot, set otadata, `ota.applied`, reboot; on a pending-verify
boot mark the image valid at `ws.open` or roll back when the self-test limit passes).

Progress survives a power cut: after each slot write the byte count is stored in NVS
with the manifest's sha256, so the next boot re-reads the partial slot, re-hashes it and
asks only for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from emulator.core.answers import Failure, bad_answer, failure_of, parse_answer
from emulator.core.boot import other_slot
from emulator.core.context import Ctx
from emulator.core.download import Download
from emulator.core.effects import OtaMarkInvalid, OtaMarkValid, OtaSetBoot, Reboot
from emulator.core.inputs import HttpEvent, HttpFailed, HttpResponse
from protocol import device_model as dm
from protocol.constants import FIRMWARE_PATH
from protocol.device_events import (
    OtaAppliedEvent,
    OtaAvailableEvent,
    OtaNoneEvent,
    OtaVerifyFailEvent,
)
from protocol.device_model import OtaNoneReason, Slot, Timer
from protocol.manifest import FirmwareManifest, ImageInfo, decide_update
from protocol.semver import parse_version
from protocol.server_answer import BadAnswer


class Ota:
    """Update checks and the self-test of a freshly installed image."""

    def __init__(
        self,
        ctx: Ctx,
        *,
        is_idle: Callable[[], bool],
        enabled: Callable[[], bool],
        before_reboot: Callable[[str], None],
        settle: Callable[[], None],
    ) -> None:
        self.ctx = ctx
        self._is_idle = is_idle
        self._enabled = enabled
        self._before_reboot = before_reboot  # closes the WebSocket with 1001 + reason
        self._settle = settle
        self._req: int | None = None
        self._waiting: FirmwareManifest | None = None  # non-mandatory, waits for idle
        self.download: Download | None = None
        self.confirmed = not ctx.boot.pending_verify
        self._first_check_done = False

    @property
    def busy(self) -> bool:
        return self._req is not None or self.download is not None

    @property
    def updating(self) -> bool:
        return self.download is not None

    # --- boot and self-test (SPEC §5.5) -------------------------------------------------

    def on_boot(self) -> None:
        if self.ctx.boot.pending_verify:
            self.ctx.log("new image pending verification: self-test is claim + ws.open")
            self.ctx.arm("selftest", self.ctx.timing.self_test_limit_ms)

    def on_ws_open(self) -> None:
        if not self.confirmed:
            self.confirmed = True
            self.ctx.disarm("selftest")
            self.ctx.do(OtaMarkValid(self.ctx.boot.slot, self.ctx.boot.image_secure_version))
            self.ctx.log(f"self-test passed: {self.ctx.boot.fw_version} marked valid")
        if not self._first_check_done:
            self._first_check_done = True
            self.check(auto=True)
            self.ctx.arm("ota_periodic", self.ctx.timing.ota_check_interval_ms)

    def on_timer(self, name: Timer) -> None:
        if name == "selftest" and not self.confirmed:
            self.ctx.log("self-test failed: no ws.open within the limit; rolling back")
            self.ctx.do(OtaMarkInvalid(self.ctx.boot.slot, "self_test_failed"))
            self._before_reboot("reboot")
            self.ctx.do(Reboot("sw"))
        elif name == "ota_periodic":
            self.check(auto=True)
            self.ctx.arm("ota_periodic", self.ctx.timing.ota_check_interval_ms)
        elif name == "ota_retry" and self.download is not None:
            self.download.resume()

    # --- check and decision (SPEC §5.4) -------------------------------------------------

    def check(self, *, auto: bool = False) -> bool:
        """Start a manifest check; False when one is already running or OTA is off."""
        if self.busy or not self._enabled():
            if auto and not self._enabled():
                self.ctx.log("ota disabled by config (features.ota false)")
            return False
        query = urlencode(
            {
                "device_id": self.ctx.device_id,
                "current_version": self.ctx.boot.fw_version,
                "chip": self.ctx.build.chip,
            }
        )
        headers: tuple[tuple[str, str], ...] = ()
        etag = self.ctx.nvs_get(dm.NVS_OTA_MF_ETAG)
        if etag and self.ctx.nvs_get(dm.NVS_OTA_MF_BODY) and not self.ctx.quirk("ignore_etag"):
            headers = (("If-None-Match", etag),)  # (the quirk: SPEC Appendix C)
        url = f"{self.ctx.server_url}{FIRMWARE_PATH}?{query}"
        self._req = self.ctx.http("GET", url, headers=headers, on_event=self._on_manifest)
        return True

    def _on_manifest(self, event: HttpEvent) -> None:
        if not isinstance(event, HttpResponse | HttpFailed):
            return
        self.ctx.http_done(event.req_id)
        self._req = None
        if isinstance(event, HttpFailed) or event.status not in (200, 304, 404):
            self._none("check_failed", failure_of(event))
            return
        if event.status == 404:
            self._none("no_release", failure_of(event))
            return
        raw = event.body if event.status == 200 else None
        if raw is None:
            raw = (self.ctx.nvs_get(dm.NVS_OTA_MF_BODY) or "").encode()
        manifest = parse_answer(raw, FirmwareManifest.from_json)
        if isinstance(manifest, BadAnswer):
            self._none("bad_manifest", bad_answer(event.status, "", manifest))
            return
        if event.status == 200:
            self.ctx.nvs_set(dm.NVS_OTA_MF_BODY, raw.decode("utf-8"))
            self.ctx.nvs_set(dm.NVS_OTA_MF_ETAG, event.headers.get("etag", ""))
        self._decide(manifest, Failure(event.status, ""))

    def _decide(self, manifest: FirmwareManifest, answer: Failure) -> None:
        """SPEC §5.4 rows 4..8 (`answer`: the manifest's status, for the `ota.none` line)."""
        boot = self.ctx.boot
        decision = decide_update(
            manifest,
            running_version=boot.fw_version,
            chip=self.ctx.build.chip,
            secure_version=boot.efuse_secure_version,
        )
        if decision.action == "skip":
            assert decision.reason != "newer_version"  # only an update is newer
            self._none(decision.reason, answer)
            return
        bad = self.ctx.nvs_get(dm.NVS_OTA_BAD_VERSION)
        if bad and parse_version(bad) == parse_version(manifest.version):
            # Like esp_https_ota's "same as the invalid version": no install loop.
            self._none("rolled_back", answer)
            return
        self.ctx.emit(OtaAvailableEvent(version=manifest.version, size=manifest.size))
        if manifest.mandatory or self._is_idle():
            self._start(manifest)
        else:
            self.ctx.log(f"update {manifest.version} waits until the device is idle")
            self._waiting = manifest

    def _none(self, reason: OtaNoneReason, answer: Failure) -> None:
        self.ctx.emit(
            OtaNoneEvent(
                reason=reason,
                status=answer.status,
                code=answer.code,
                message=answer.message,
                field=answer.field,
            )
        )

    def on_idle(self) -> None:
        """The chat went idle: a waiting non-mandatory update may start (SPEC §5.4)."""
        if self._waiting is not None and not self.busy:
            manifest, self._waiting = self._waiting, None
            self._start(manifest)

    # --- download, verify, apply --------------------------------------------------------

    def _start(self, manifest: FirmwareManifest) -> None:
        slot = other_slot(self.ctx.boot.slot)
        if manifest.size > self.ctx.boot.slot_size:
            # esp_ota_begin refuses an image larger than the partition before any write.
            slot_size = self.ctx.boot.slot_size
            why = f"image of {manifest.size} bytes does not fit the {slot_size}-byte slot"
            self.ctx.emit(OtaVerifyFailEvent(reason="size_mismatch", message=why))
            return
        self.ctx.set_state("updating")
        self.download = Download(
            self.ctx,
            manifest=manifest,
            slot=slot,
            on_verified=self._apply,
            on_failed=self._failed,
        )
        self.download.begin()

    def _failed(self, reason: str, message: str) -> None:
        self.ctx.emit(OtaVerifyFailEvent(reason=reason, message=message))
        self.download = None
        self._settle()

    def _apply(self, info: ImageInfo, slot: Slot) -> None:
        self.download = None
        self.ctx.do(OtaSetBoot(slot))
        self.ctx.emit(OtaAppliedEvent(version=info.version, slot=slot))
        self._before_reboot("ota")
        self.ctx.do(Reboot("sw"))

    def on_rollback_reported(self, from_version: str) -> None:
        self.ctx.nvs_set(dm.NVS_OTA_BAD_VERSION, from_version)
