"""The sans-I/O core of the emulated Teddy firmware (events in, effects out).

`Device` is the application state machine of SPEC §8.3; `select_boot` is the bootloader's
slot choice of SPEC §5.5. Neither performs I/O nor reads a clock: the asyncio host
(`emulator.host`) feeds inputs with the current uptime and carries out the effects.
"""

from emulator.core.boot import Behaviour, BootInfo, BuildConfig, SlotInfo, select_boot
from emulator.core.device import Device
from emulator.core.timing import DeviceTiming

__all__ = [
    "Behaviour",
    "BootInfo",
    "BuildConfig",
    "Device",
    "DeviceTiming",
    "SlotInfo",
    "select_boot",
]
