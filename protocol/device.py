"""Small rules over the device model that more than one target needs.

Owns the mapping from the harness's spelling of a reset reason to SPEC §8.2's
(`reset_reason`), used by every target that boots a board with a reason.
"""

from __future__ import annotations

from protocol.device_model import CRASH_REASONS, RESET_REASONS, ResetReason


def reset_reason(reason: str) -> ResetReason:
    """`power_on` (harness spelling) -> `poweron` (SPEC §8.2); unknown -> `unknown`."""
    for candidate in (reason.replace("_", ""), reason):
        if candidate in RESET_REASONS:
            return candidate
    return "unknown"


def is_crash(reason: str) -> bool:
    """True for the reset reasons that are crashes (they name a SPEC §5.5 rollback)."""
    return reason in CRASH_REASONS
