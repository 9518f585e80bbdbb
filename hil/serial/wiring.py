"""A board that describes its own wiring on the console, for runs without a bench file.

Owns the `wiring:` boot line. Which audio path, button actuator or network switch a board
has is a fact of the bench, not of the firmware (every teddy build drives an INMP441 and
a MAX98357A whether they are soldered on or not), so the `serial` target never guesses
it. A board may state it itself with one free-text line at boot (not a SPEC §8 event):

    I (125) board: wiring: audio_in,audio_out

`teddy-hil virtual-board` prints it (its emulator speaks and records); a lab can add it
to a test build. It counts only when neither a bench entry nor
`$TEDDY_SERIAL_CAPABILITIES` declares the board, and only names from
`WIRED_CAPABILITIES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from hil.serial.bench import WIRED_CAPABILITIES

WIRING_RE: Final = re.compile(r"\bboard: wiring: ([a-z_,]*)\s*(?:\(|$)")


def wiring_line(capabilities: Iterable[str], *, uptime_ms: int = 125) -> str:
    """The line a board prints (ESP-IDF log format, tag `board`)."""
    return f"I ({uptime_ms}) board: wiring: {','.join(capabilities)}"


def reported_wiring(lines: Iterable[str]) -> frozenset[str] | None:
    """The wiring the last `wiring:` line states (unknown names dropped), None if none."""
    found: frozenset[str] | None = None
    for line in lines:
        match = WIRING_RE.search(line)
        if match:
            names = {n for n in match.group(1).split(",") if n}
            found = frozenset(names & set(WIRED_CAPABILITIES))
    return found
