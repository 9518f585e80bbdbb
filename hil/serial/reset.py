"""DTR/RTS reset sequences, as data, for the classic ESP32 auto-reset circuit and USB-Serial-JTAG.

A DevKit's USB-UART bridge drives EN and GPIO0 through two transistors from RTS and DTR
(active low: asserting a line = True in pyserial pulls the pin LOW). Asserting RTS alone
holds EN low (reset); releasing RTS while DTR is asserted starts the ROM loader (GPIO0
low = download mode). The internal USB-Serial-JTAG peripheral (ESP32-S3/C3/C6) decodes
the same lines differently and must never pass through (DTR, RTS) = (1, 1)->(0, 0) in one
step. The sequences and timings are esptool's (`esp_pylib.serial_reset`), written here as
step lists so a test can record them on a fake port and a bench can print them.

`reconnect` closes and reopens the port: on `hil.virtual_board` over `socket://` every
connection is a power-on (its README); `console` sends `reboot` (SPEC §9.2, reason
`sw`); `none` means the board cannot be reset from outside.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from hil.serial.errors import SerialPathError

ASSERT: Final = True  # pyserial True = line active = pin LOW on the board
RELEASE: Final = False


class ModemLines(Protocol):
    """The part of `serial.Serial` a reset needs (a fake records it in tests)."""

    dtr: bool
    rts: bool


@dataclass(frozen=True)
class Step:
    line: str  # "dtr", "rts" or "wait"
    value: bool = False
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.line == "wait":
            return f"W{self.seconds:g}"
        return f"{self.line[0].upper()}{int(self.value)}"


def _dtr(value: bool) -> Step:
    return Step("dtr", value)


def _rts(value: bool) -> Step:
    return Step("rts", value)


def _wait(seconds: float) -> Step:
    return Step("wait", seconds=seconds)


# esptool ClassicReset: GPIO0 high + EN low, then GPIO0 low + EN high, then GPIO0 high.
CLASSIC_BOOTLOADER: Final = (
    _dtr(RELEASE),
    _rts(ASSERT),  # EN low: chip held in reset
    _wait(0.1),
    _dtr(ASSERT),  # GPIO0 low
    _rts(RELEASE),  # EN high: ROM samples GPIO0 low -> download mode
    _wait(0.05),
    _dtr(RELEASE),  # GPIO0 high again
)
# esptool HardReset: pulse EN with GPIO0 released -> the app boots.
CLASSIC_RUN: Final = (_dtr(RELEASE), _rts(ASSERT), _wait(0.1), _rts(RELEASE))
# esptool USBJTAGSerialReset; RTS is written again after DTR (Windows usbser.sys quirk).
USB_JTAG_BOOTLOADER: Final = (
    _rts(RELEASE),
    _dtr(RELEASE),
    _wait(0.1),
    _dtr(ASSERT),
    _rts(RELEASE),
    _wait(0.1),
    _rts(ASSERT),
    _dtr(RELEASE),
    _rts(ASSERT),
    _wait(0.1),
    _dtr(RELEASE),
    _rts(RELEASE),
)
# esptool HardReset(uses_usb=True): longer hold, then time to re-enumerate.
USB_JTAG_RUN: Final = (_dtr(RELEASE), _rts(ASSERT), _wait(0.2), _rts(RELEASE), _wait(0.2))

DTR_RTS_METHODS: Final = ("classic", "usb-jtag")
SEQUENCES: Final[dict[tuple[str, str], tuple[Step, ...]]] = {
    ("classic", "run"): CLASSIC_RUN,
    ("classic", "bootloader"): CLASSIC_BOOTLOADER,
    ("usb-jtag", "run"): USB_JTAG_RUN,
    ("usb-jtag", "bootloader"): USB_JTAG_BOOTLOADER,
}


def sequence(method: str, mode: str) -> tuple[Step, ...]:
    """The steps that reset a board wired for `method` into `mode` (run|bootloader)."""
    try:
        return SEQUENCES[(method, mode)]
    except KeyError:
        raise SerialPathError(
            f"no DTR/RTS sequence for reset method {method!r} into {mode!r};"
            " use classic or usb-jtag in the bench file"
        ) from None


def describe(steps: Sequence[Step]) -> str:
    """esptool's custom-reset notation (`D0|R1|W0.1|R0`), for logs and the lab guide."""
    return "|".join(str(s) for s in steps)


def run_sequence(
    port: ModemLines, steps: Sequence[Step], *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Apply `steps` to the port's modem lines (blocking; call it from a thread in async code)."""
    for step in steps:
        if step.line == "dtr":
            port.dtr = step.value
        elif step.line == "rts":
            port.rts = step.value
            # Re-write DTR after RTS: some USB-CDC drivers only send SET_CONTROL_LINE_STATE
            # when both change (esp_pylib.serial_reset.set_rts does the same).
            port.dtr = port.dtr
        else:
            sleep(step.seconds)
