"""`TapError`: the wire tap's one exception (it cannot listen, or its upstream URL is bad).

A peer's garbage is never an exception here: it becomes an `error` record (hil.tap.records).
"""

from __future__ import annotations

from hil.errors import HilError


class TapError(HilError):
    """The tap could not be set up; the message says what to change."""
