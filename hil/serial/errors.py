"""Errors of the serial path; all are `HilError`s, so the runner fails the scenario with them.

Every message is one line that says what went wrong *and what to check*, because a lab
engineer reads it in a CI log with no one to ask (issue 5 acceptance).
"""

from __future__ import annotations

from hil.errors import HilError


class SerialPathError(HilError):
    """Root of the serial path's errors."""


class BenchError(SerialPathError):
    """The bench file is invalid; `problems` lists every finding (`file: key: message`)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


class PortError(SerialPathError):
    """The port cannot be opened or stopped answering."""


class NotAnEspError(SerialPathError):
    """Something answered on the port, but not like an ESP32 (ROM loader or teddy firmware)."""


class BoardBusyError(SerialPathError):
    """Another run holds the board's lock (lease) and did not free it in time."""


class FlashError(SerialPathError):
    """Flashing or verifying failed."""
