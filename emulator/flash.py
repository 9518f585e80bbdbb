"""Virtual SPI flash of the emulated board, persisted in a directory.

Owns the on-disk layout: `partitions.json` (the table: nvs, otadata, ota_0, ota_1, as in
an ESP-IDF two-OTA layout), `nvs.json` (namespaces of key/value pairs), `otadata.json`
(per slot: sequence number, SPEC §5.5 state, why it was invalidated; a pending rollback
report), `efuse.json` (the anti-rollback counter) and `ota_0.bin` / `ota_1.bin` (the app
slots, holding real ESP32 app images, or a partial download). Every write is durable
when the call returns (JSON through a temporary file and `os.replace`; slot writes in
place), so a power cut loses only what was not written yet.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

from emulator.core.boot import SLOTS, BootDecision, Rollback, SlotInfo
from emulator.core.effects import NvsValue
from emulator.errors import FlashError
from protocol.device_model import Slot
from protocol.errors import ImageError
from protocol.image import read_app_image

# ESP-IDF "two OTA" layout on 4 MB flash: name -> (offset, size).
PARTITIONS: Final[dict[str, tuple[int, int]]] = {
    "nvs": (0x9000, 0x6000),
    "otadata": (0xF000, 0x2000),
    "ota_0": (0x20000, 0x180000),
    "ota_1": (0x1A0000, 0x180000),
}
NvsData = dict[str, dict[str, NvsValue]]


def _read_json(path: Path, default: object) -> object:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise FlashError(f"{path}: unreadable ({exc})") from exc


def _write_json(path: Path, value: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(value, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, path)  # atomic: a cut leaves the old or the new file, never half
    except OSError as exc:
        raise FlashError(f"{path}: write failed ({exc})") from exc


class Flash:
    """One board's flash; every method is a complete, durable operation."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FlashError(f"{root}: cannot create the flash directory ({exc})") from exc
        table = root / "partitions.json"
        if not table.exists():
            layout = {
                name: {"offset": off, "size": size} for name, (off, size) in PARTITIONS.items()
            }
            _write_json(table, layout)

    # --- NVS ----------------------------------------------------------------------------

    def load_nvs(self) -> NvsData:
        data = _read_json(self.root / "nvs.json", {})
        if not isinstance(data, dict):
            raise FlashError("nvs.json is not an object")
        return {str(ns): dict(values) for ns, values in data.items() if isinstance(values, dict)}

    def nvs_set(self, namespace: str, key: str, value: NvsValue) -> None:
        data = self.load_nvs()
        data.setdefault(namespace, {})[key] = value
        _write_json(self.root / "nvs.json", data)

    def nvs_erase(self, namespace: str, key: str | None = None) -> None:
        data = self.load_nvs()
        if key is None:
            data.pop(namespace, None)
        else:
            data.get(namespace, {}).pop(key, None)
        _write_json(self.root / "nvs.json", data)

    # --- app slots ----------------------------------------------------------------------

    def _slot_path(self, slot: str) -> Path:
        if slot not in SLOTS:
            raise FlashError(f"no app slot {slot!r}; slots: {', '.join(SLOTS)}")
        return self.root / f"{slot}.bin"

    def read_slot(self, slot: str, offset: int = 0, length: int | None = None) -> bytes:
        """`length` bytes at `offset` (all of it by default); short where the slot ends."""
        path = self._slot_path(slot)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise FlashError(f"{path}: read failed ({exc})") from exc
        return data[offset:] if length is None else data[offset : offset + length]

    def erase_slot(self, slot: str) -> None:
        path = self._slot_path(slot)
        path.unlink(missing_ok=True)
        otadata = self.load_otadata()
        otadata[slot] = {"seq": 0, "state": "empty", "reason": ""}
        self._save_otadata(otadata)

    def write_slot(self, slot: str, offset: int, data: bytes) -> None:
        """Write at `offset`; the slot ends after `data` (later bytes are stale anyway)."""
        path = self._slot_path(slot)
        if offset + len(data) > PARTITIONS[slot][1]:
            raise FlashError(f"{slot}: write past the end of the partition")
        try:
            with path.open("r+b" if path.exists() else "w+b") as handle:
                handle.seek(offset)
                handle.write(data)
                handle.truncate(offset + len(data))
        except OSError as exc:
            raise FlashError(f"{path}: write failed ({exc})") from exc

    # --- otadata and efuses ---------------------------------------------------------------

    def load_otadata(self) -> dict[str, dict[str, object]]:
        data = _read_json(self.root / "otadata.json", {})
        if not isinstance(data, dict):
            raise FlashError("otadata.json is not an object")
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def _save_otadata(self, data: dict[str, dict[str, object]]) -> None:
        _write_json(self.root / "otadata.json", data)

    def slot_infos(self) -> dict[Slot, SlotInfo]:
        """What the bootloader sees: otadata entries plus a check of each image."""
        otadata = self.load_otadata()
        infos: dict[Slot, SlotInfo] = {}
        for slot in SLOTS:
            entry = otadata.get(slot, {})
            version: str | None = None
            secure = 0
            try:
                image = read_app_image(self.read_slot(slot))
                if image.app_desc is not None:
                    version, secure = image.app_desc.version, image.app_desc.secure_version
            except ImageError:
                version = None  # empty, partial or corrupt: not bootable
            seq = entry.get("seq", 0)
            infos[slot] = SlotInfo(
                name=slot,
                state=str(entry.get("state", "empty")),
                seq=seq if isinstance(seq, int) else 0,
                version=version,
                secure_version=secure,
                invalid_reason=str(entry.get("reason", "")),
            )
        return infos

    def _set_state(
        self, slot: str, state: str, reason: str = "", *, seq: int | None = None
    ) -> None:
        otadata = self.load_otadata()
        entry = dict(otadata.get(slot, {}))
        entry["state"], entry["reason"] = state, reason
        if seq is not None:
            entry["seq"] = seq
        otadata[slot] = entry
        self._save_otadata(otadata)

    def set_boot(self, slot: str) -> None:
        """`esp_ota_set_boot_partition`: the slot boots next as a new image (SPEC §5.5)."""
        seqs = [e.get("seq", 0) for e in self.load_otadata().values()]
        top = max((s for s in seqs if isinstance(s, int)), default=0)
        self._set_state(slot, "new", seq=top + 1)

    def mark_valid(self, slot: str, secure_version: int) -> None:
        self._set_state(slot, "valid")
        if secure_version > self.efuse_secure_version():
            _write_json(self.root / "efuse.json", {"secure_version": secure_version})

    def mark_invalid(self, slot: str, reason: str) -> None:
        self._set_state(slot, "invalid", reason)

    def apply_boot(self, decision: BootDecision) -> Rollback | None:
        """Write the bootloader's state changes; returns the rollback report to print."""
        for slot, (state, reason) in decision.state_updates.items():
            self._set_state(slot, state, reason)
        otadata = self.load_otadata()
        if decision.rollback is not None:
            rb = decision.rollback
            otadata["rollback"] = {
                "from": rb.from_version,
                "to": rb.to_version,
                "reason": rb.reason,
            }
            self._save_otadata(otadata)
            return rb
        stored = otadata.get("rollback")
        if stored:  # printed at an earlier boot that was cut before acknowledging it
            return Rollback(str(stored["from"]), str(stored["to"]), str(stored["reason"]))
        return None

    def ack_rollback(self) -> None:
        otadata = self.load_otadata()
        if otadata.pop("rollback", None) is not None:
            self._save_otadata(otadata)

    def efuse_secure_version(self) -> int:
        data = _read_json(self.root / "efuse.json", {})
        value = data.get("secure_version", 0) if isinstance(data, dict) else 0
        return value if isinstance(value, int) else 0

    def write_factory(self, image: bytes, *, secure_version: int) -> None:
        """First power-on of a blank board: the factory image in ota_0, valid."""
        self.write_slot("ota_0", 0, image)
        self._set_state("ota_0", "valid", seq=1)
        if secure_version > self.efuse_secure_version():
            _write_json(self.root / "efuse.json", {"secure_version": secure_version})

    def is_blank(self) -> bool:
        return not any(self.read_slot(slot) for slot in SLOTS)
