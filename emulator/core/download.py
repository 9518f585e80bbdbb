"""One firmware download into the inactive slot, resumable across drops and power cuts.

Owns the device side of SPEC §5.2: stream the image into the slot while
`protocol.manifest.ImageVerifier` hashes and checks it (SPEC §5.4 streaming rows abort
at once), persist `bytes so far` + the manifest sha256 in NVS after every slot write, and
resume with `Range: bytes=<received>-` and `If-Range: <ETag of the first response>`. A
206 is accepted only when its `Content-Range` starts at the received count and ends at
`size - 1`; a 200 restarts from byte 0; 5 failed attempts give up with `size_mismatch`,
whose `message` names the last attempt's failure (SPEC §8.2: the server's answer).
`ota.progress` is printed at the start (0, or the resume offset), at every further 10 %
and at the end (SPEC §8.2). A resumed download re-reads the partial slot in reads of
`SLOT_READ_CHUNK_BYTES` (as the C core does: a board cannot hold the slot in RAM).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from emulator.core.context import Ctx
from emulator.core.effects import SlotErase, SlotRead, SlotWrite
from emulator.core.inputs import (
    HttpEvent,
    HttpFailed,
    HttpResponse,
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
)
from protocol import device_model as dm
from protocol.device_events import OtaProgressEvent
from protocol.device_model import SERVER_CODE_MAX_BYTES, SLOT_READ_CHUNK_BYTES, Slot
from protocol.errors import ImageError, ImageErrorReason
from protocol.manifest import FirmwareManifest, ImageInfo, ImageVerifier
from protocol.server_answer import quote

_CONTENT_RANGE: Final = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class Download:
    """Streams `manifest.url` into `slot`; ends in `on_verified` or `on_failed(reason)`."""

    def __init__(
        self,
        ctx: Ctx,
        *,
        manifest: FirmwareManifest,
        slot: Slot,
        on_verified: Callable[[ImageInfo, Slot], None],
        on_failed: Callable[[str, str], None],
    ) -> None:
        self.ctx = ctx
        self.manifest = manifest
        self.slot = slot
        self._on_verified = on_verified
        self._on_failed = on_failed
        self.received = 0
        self.attempts = 0  # failed attempts (SPEC §5.2: give up after 5)
        self.reading = False  # re-reading the partial slot of a resumed download
        self._read_target = 0  # bytes of the slot to re-read
        self._image = bytearray()
        self._verifier = self._new_verifier()
        self._req: int | None = None
        self._range_from = 0
        self._etag = ""
        self._next_tenth = 0

    def _new_verifier(self) -> ImageVerifier:
        return ImageVerifier(
            self.manifest,
            chip=self.ctx.build.chip,
            min_secure_version=self.ctx.boot.efuse_secure_version,
        )

    # --- start ----------------------------------------------------------------------------

    def begin(self) -> None:
        """Resume a download of the same image (same sha256, slot, size) or start afresh."""
        ctx, m = self.ctx, self.manifest
        done = ctx.nvs_get(dm.NVS_OTA_DL_BYTES)
        if (
            ctx.nvs_get(dm.NVS_OTA_DL_SHA256) == m.sha256
            and ctx.nvs_get(dm.NVS_OTA_DL_SLOT) == self.slot
            and ctx.nvs_get(dm.NVS_OTA_DL_SIZE) == m.size
            and done is not None
            and 0 < done < m.size
        ):
            self.reading = True
            self._etag = ctx.nvs_get(dm.NVS_OTA_DL_ETAG) or ""
            self._read_target = done
            self.received = 0
            self._read_next()
            return
        self._fresh()
        self._request()

    def _read_length(self) -> int:
        return min(SLOT_READ_CHUNK_BYTES, self._read_target - self.received)

    def _read_next(self) -> None:
        self.ctx.do(SlotRead(self.slot, self.received, self._read_length()))

    def _fresh(self) -> None:
        self.received = 0
        self._image = bytearray()
        self._verifier = self._new_verifier()
        self._etag = ""
        self.ctx.do(SlotErase(self.slot))
        self.ctx.nvs_erase("ota_dl")
        self.ctx.nvs_set(dm.NVS_OTA_DL_SHA256, self.manifest.sha256)
        self.ctx.nvs_set(dm.NVS_OTA_DL_SLOT, self.slot)
        self.ctx.nvs_set(dm.NVS_OTA_DL_SIZE, self.manifest.size)
        self.ctx.nvs_set(dm.NVS_OTA_DL_VERSION, self.manifest.version)
        self.ctx.nvs_set(dm.NVS_OTA_DL_BYTES, 0)
        self._next_tenth = 0
        self._progress()

    def on_slot_data(self, offset: int, data: bytes) -> None:
        """A piece of the partial slot of an interrupted download: re-hash it, then go on."""
        if not self.reading or offset != self.received:
            return  # not the piece asked for
        if len(data) < self._read_length():
            self.reading = False
            self.ctx.log(f"partial slot ends at byte {offset + len(data)}, NVS says more: restart")
            self._fresh()
            self._request()
            return
        try:
            self._verifier.feed(data)
        except ImageError as exc:
            self._abort(exc.reason)
            return
        self.received += len(data)
        self._image += data
        if self.received < self._read_target:
            self._read_next()
            return
        self.reading = False
        self.ctx.log(f"resuming download of {self.manifest.version} at byte {self.received}")
        self._next_tenth = self.received * 10 // self.manifest.size
        self._progress()
        self._request()

    def resume(self) -> None:
        """Retry after a failed attempt (timer `ota_retry`)."""
        self._request()

    def _request(self) -> None:
        headers: list[tuple[str, str]] = []
        if self.received > 0:
            headers.append(("Range", f"bytes={self.received}-"))
            if self._etag:
                headers.append(("If-Range", self._etag))
        self._range_from = self.received
        self._req = self.ctx.http(
            "GET", self.manifest.url, headers=tuple(headers), stream=True, on_event=self._on_event
        )

    # --- the stream -----------------------------------------------------------------------

    def _on_event(self, event: HttpEvent) -> None:
        if isinstance(event, HttpStreamStart):
            self._on_start(event)
        elif isinstance(event, HttpStreamData):
            self._on_data(event.data)
        elif isinstance(event, HttpStreamEnd):
            self.ctx.http_done(event.req_id)
            self._req = None
            if self.received == self.manifest.size:
                self._finish()
            else:
                self._attempt_failed(f"download ended at byte {self.received}")
        elif isinstance(event, HttpFailed):
            self.ctx.http_done(event.req_id)
            self._req = None
            self._attempt_failed(f"transport: {event.reason}")
        elif isinstance(event, HttpResponse):  # not a streaming answer: treat as a failure
            self.ctx.http_done(event.req_id)
            self._req = None
            self._attempt_failed(f"HTTP {event.status}")

    def _on_start(self, event: HttpStreamStart) -> None:
        status = event.status
        if self._range_from > 0 and status == 206:
            value = event.headers.get("content-range", "")
            match = _CONTENT_RANGE.fullmatch(value.strip())
            expected = (self._range_from, self.manifest.size - 1, self.manifest.size)
            if match is None or tuple(int(g) for g in match.groups()) != expected:
                self._attempt_failed(f"bad Content-Range '{quote(value, SERVER_CODE_MAX_BYTES)}'")
                return
        elif self._range_from > 0 and status == 200:
            self.ctx.log("server sent the whole image (200): restarting from byte 0")
            self._fresh()
        elif status != 200:
            if status == 416:
                self._fresh()  # the saved offset is useless: next attempt from 0
            self._attempt_failed(f"HTTP {status}")
            return
        etag = event.headers.get("etag", "")
        if etag and not self._etag:
            self._etag = etag
            self.ctx.nvs_set(dm.NVS_OTA_DL_ETAG, etag)

    def _on_data(self, data: bytes) -> None:
        if self._req is None or not data:
            return
        try:
            self._verifier.feed(data)
        except ImageError as exc:
            self._abort(exc.reason)
            return
        # Slot first, then the count: after a power cut the count never exceeds the slot.
        self.ctx.do(SlotWrite(self.slot, self.received, data))
        self.received += len(data)
        self._image += data
        self.ctx.nvs_set(dm.NVS_OTA_DL_BYTES, self.received)
        self._progress()

    def _progress(self) -> None:
        tenth = self.received * 10 // self.manifest.size
        if tenth >= self._next_tenth:
            self.ctx.emit(OtaProgressEvent(bytes=self.received, total=self.manifest.size))
            self._next_tenth = tenth + 1

    def _finish(self) -> None:
        try:
            info = self._verifier.finish(bytes(self._image))
        except ImageError as exc:
            self._abort(exc.reason)
            return
        self.ctx.nvs_erase("ota_dl")
        self._on_verified(info, self.slot)

    def _attempt_failed(self, why: str) -> None:
        self.ctx.http_cancel(self._req)
        self._req = None
        self.attempts += 1
        self.ctx.log(f"download attempt {self.attempts} failed: {why}")
        if self.attempts >= self.ctx.timing.ota_max_attempts:
            # SPEC §5.2: the bytes never completed; §8.2: say what the server did last.
            self._abort("size_mismatch", quote(f"{self.attempts} attempts failed; the last: {why}"))
            return
        self.ctx.arm("ota_retry", self.ctx.timing.ota_retry_ms)

    def _abort(self, reason: ImageErrorReason, message: str = "") -> None:
        self.ctx.http_cancel(self._req)
        self._req = None
        self.ctx.disarm("ota_retry")
        self.ctx.nvs_erase("ota_dl")
        self._on_failed(reason, message)
