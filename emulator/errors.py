"""The exception root of the emulator package (one root per package, docs/architecture.md).

Owns `EmulatorError` and its few subclasses. The device itself never raises on bad
input from the server or the console (it prints an event and recovers); these are for
the host's own misuse and for broken flash directories.
"""

from __future__ import annotations


class EmulatorError(Exception):
    """Root of every exception raised by `emulator`."""


class FlashError(EmulatorError):
    """The virtual flash directory is unreadable or a write failed (SPEC §8.2 `storage`)."""


class AudioSourceError(EmulatorError):
    """An audio source cannot be opened; `reason` is the SPEC §9.3 `cmd.error` reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class HostStateError(EmulatorError):
    """The host was used in the wrong order (e.g. `write_line` before `start`)."""


class SettingsError(EmulatorError):
    """`DeviceSettings` holds a value the emulator cannot run with."""
