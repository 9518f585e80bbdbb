"""The bootloader's slot choice (SPEC §5.5), behaviour markers and the backoff rule."""

from __future__ import annotations

import random

import pytest

from emulator.core.boot import Behaviour, Rollback, SlotInfo, select_boot
from emulator.core.timing import DeviceTiming, backoff_ms
from protocol.device_model import Slot
from protocol.image import build_app_image

pytestmark = pytest.mark.unit


def slots(first: SlotInfo, second: SlotInfo) -> dict[Slot, SlotInfo]:
    return {first.name: first, second.name: second}


OLD = SlotInfo("ota_0", "valid", 1, "1.0.0")


def test_new_image_boots_pending_verify() -> None:
    decision = select_boot(slots(OLD, SlotInfo("ota_1", "new", 2, "1.1.0")), reset_reason="sw")
    assert (decision.slot, decision.pending_verify) == ("ota_1", True)
    assert decision.state_updates == {"ota_1": ("pending_verify", "")}
    assert decision.rollback is None


@pytest.mark.parametrize(
    ("reset", "reason"), [("poweron", "not_confirmed"), ("sw", "not_confirmed"), ("panic", "panic")]
)
def test_unconfirmed_image_rolls_back_with_the_reset_reason(reset: str, reason: str) -> None:
    pending = SlotInfo("ota_1", "pending_verify", 2, "1.1.0")
    decision = select_boot(slots(OLD, pending), reset_reason=reset)
    assert (decision.slot, decision.pending_verify) == ("ota_0", False)
    assert decision.state_updates == {"ota_1": ("aborted", reason)}
    assert decision.rollback == Rollback("1.1.0", "1.0.0", reason)


def test_invalidated_image_reports_its_reason_and_aborted_stays_quiet() -> None:
    invalid = SlotInfo("ota_1", "invalid", 2, "1.1.0", invalid_reason="self_test_failed")
    decision = select_boot(slots(OLD, invalid), reset_reason="sw")
    assert decision.slot == "ota_0"
    assert decision.rollback == Rollback("1.1.0", "1.0.0", "self_test_failed")
    aborted = SlotInfo("ota_1", "aborted", 2, "1.1.0")
    quiet = select_boot(slots(OLD, aborted), reset_reason="poweron")
    assert quiet.slot == "ota_0" and quiet.rollback is None


def test_unreadable_newer_slot_is_skipped_and_nothing_bootable_raises() -> None:
    partial = SlotInfo("ota_1", "empty", 0, None)
    assert select_boot(slots(OLD, partial), reset_reason="poweron").slot == "ota_0"
    with pytest.raises(ValueError, match="no bootable"):
        select_boot(slots(SlotInfo("ota_0"), partial), reset_reason="poweron")


def test_behaviour_markers() -> None:
    marked = build_app_image(version="1.1.0", payload=b'xx TEDDY-BEHAVIOUR:{"selftest":"fail"} yy')
    assert Behaviour.from_image(marked) == Behaviour(network_broken=True)
    panic = build_app_image(version="1.1.0", payload=b'TEDDY-BEHAVIOUR:{"panic_after_ms":250}')
    assert Behaviour.from_image(panic).panic_after_ms == 250
    for payload in (b"", b"TEDDY-BEHAVIOUR:{broken", b"TEDDY-BEHAVIOUR:[1]"):
        assert (
            Behaviour.from_image(build_app_image(version="1.0.0", payload=payload)) == Behaviour()
        )


def test_backoff_doubles_caps_and_jitters() -> None:
    rng = random.Random(1)
    for attempt, nominal in ((1, 1000), (2, 2000), (3, 4000), (6, 30000), (40, 30000)):
        delay = backoff_ms(attempt=attempt, base_ms=1000, max_ms=30000, jitter=0.25, rng=rng)
        assert nominal * 0.75 <= delay <= nominal * 1.25
    assert backoff_ms(attempt=3, base_ms=100, max_ms=1000, jitter=0, rng=rng) == 400
    real = DeviceTiming.realistic()
    assert (real.claim_backoff_base_ms, real.reconnect_base_ms) == (1000, 2000)
