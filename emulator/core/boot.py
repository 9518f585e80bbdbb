"""The bootloader's slot choice, the boot facts handed to the app, and behaviour markers.

Owns SPEC §5.5 on the bootloader side: two app slots with an otadata state each
(`new` -> `pending_verify` -> `valid`, or `invalid`/`aborted`), the fall-back to the
previous slot when a pending image booted once without confirming itself, and the
rollback report the app prints after such a boot. Pure functions over plain data: the
host reads the flash, calls `select_boot`, writes the result back.

Behaviour markers: an image whose payload holds `TEDDY-BEHAVIOUR:{json}` makes the
emulated firmware misbehave the way a scenario asks (see emulator/README.md). The slot
names, the marker and its keys, and which reset reasons are crashes are the device
model's (`protocol.device_model`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from protocol.device import is_crash
from protocol.device_model import (
    BEHAVIOUR_MARKER,
    BEHAVIOUR_PANIC_AFTER_MS,
    BEHAVIOUR_SELFTEST,
    DEVICE_DEFAULTS,
    SLOTS,
    ResetReason,
    Slot,
)

__all__ = [
    "BEHAVIOUR_MARKER",
    "SLOTS",
    "Behaviour",
    "BootDecision",
    "BootInfo",
    "BuildConfig",
    "Rollback",
    "SlotInfo",
    "other_slot",
    "select_boot",
]


@dataclass(frozen=True)
class Behaviour:
    """How the emulated firmware in a slot misbehaves (default: it works)."""

    network_broken: bool = False  # {"selftest": "fail"}: no request ever succeeds
    panic_after_ms: int | None = None  # {"panic_after_ms": N}: crash N ms after boot

    @classmethod
    def from_image(cls, image: bytes) -> Behaviour:
        """Parse the first `TEDDY-BEHAVIOUR:{...}` marker; malformed markers are ignored."""
        start = image.find(BEHAVIOUR_MARKER)
        if start < 0:
            return cls()
        text = image[start + len(BEHAVIOUR_MARKER) :].decode("utf-8", errors="replace")
        try:
            obj, _end = json.JSONDecoder().raw_decode(text)
        except ValueError:
            return cls()
        if not isinstance(obj, dict):
            return cls()
        panic = obj.get(BEHAVIOUR_PANIC_AFTER_MS)
        return cls(
            network_broken=obj.get(BEHAVIOUR_SELFTEST) == "fail",
            panic_after_ms=panic
            if isinstance(panic, int) and not isinstance(panic, bool)
            else None,
        )


@dataclass(frozen=True)
class SlotInfo:
    """What the bootloader knows about one slot."""

    name: Slot
    state: str = "empty"  # empty | new | pending_verify | valid | invalid | aborted
    seq: int = 0  # higher = written later; the bootloader prefers it
    version: str | None = None  # None: no readable app image in the slot
    secure_version: int = 0
    invalid_reason: str = ""


@dataclass(frozen=True)
class Rollback:
    """Printed by the app as `ota.rollback{from,to,reason}` (SPEC §5.5)."""

    from_version: str
    to_version: str
    reason: str


@dataclass(frozen=True)
class BootDecision:
    slot: Slot
    pending_verify: bool
    state_updates: dict[Slot, tuple[str, str]] = field(default_factory=dict)  # slot -> state
    rollback: Rollback | None = None


def select_boot(slots: dict[Slot, SlotInfo], *, reset_reason: str) -> BootDecision:
    """Choose the slot to run (SPEC §5.5), like the ESP-IDF bootloader with rollback.

    The newest bootable slot wins. A `new` image boots as `pending_verify`; one that is
    still `pending_verify` at the next boot never confirmed itself, so it becomes
    `aborted` and the other slot runs; an `invalid` one (the app gave up) likewise.
    """
    bootable = sorted(
        (s for s in slots.values() if s.version is not None), key=lambda s: s.seq, reverse=True
    )
    if not bootable:
        raise ValueError("no bootable app image in any slot")
    first = bootable[0]
    others = [s for s in bootable[1:] if s.state not in ("invalid", "aborted", "new")]
    if first.state in ("pending_verify", "invalid", "aborted") and others:
        target = others[0]
        updates: dict[Slot, tuple[str, str]] = {}
        if first.state == "pending_verify":
            reason = reset_reason if is_crash(reset_reason) else "not_confirmed"
            updates[first.name] = ("aborted", reason)
        else:
            reason = first.invalid_reason or "not_confirmed"
        if first.state in ("pending_verify", "invalid"):
            assert first.version is not None and target.version is not None
            rollback = Rollback(first.version, target.version, reason)
        else:
            rollback = None  # reported at the boot that aborted it
        return BootDecision(target.name, False, updates, rollback)
    if first.state == "new":
        return BootDecision(first.name, True, {first.name: ("pending_verify", "")})
    return BootDecision(first.name, first.state == "pending_verify")


def other_slot(slot: Slot) -> Slot:
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


@dataclass(frozen=True)
class BootInfo:
    """Facts the running app learns at boot (from the bootloader, efuses and its image)."""

    fw_version: str
    slot: Slot
    reset_reason: ResetReason
    boot_count: int
    image_secure_version: int = 0
    efuse_secure_version: int = 0  # the anti-rollback counter (SPEC §5.4 row 7)
    pending_verify: bool = False
    rollback: Rollback | None = None
    behaviour: Behaviour = Behaviour()
    slot_size: int = 0x180000


@dataclass(frozen=True)
class BuildConfig:
    """Compiled-in defaults of the firmware (overridden by NVS settings, SPEC §9.2).

    `child_name` and `child_age` are None unless the build sets them: the device then
    uses the claim's child profile (SPEC §2.5); when set they win over it, like `set`.

    The `build: true` settings of the device model (teddy_build_t in C).
    """

    server_url: str
    device_id: str
    chip: str = DEVICE_DEFAULTS.chip
    oob_secret: str | None = DEVICE_DEFAULTS.oob_secret  # None: the SPEC §2.1 derivation
    child_id: str = DEVICE_DEFAULTS.child_id
    child_name: str | None = DEVICE_DEFAULTS.child_name  # None: the claim's (SPEC §9.2)
    child_age: int | None = DEVICE_DEFAULTS.child_age  # None: the claim's
    volume: int = DEVICE_DEFAULTS.volume
