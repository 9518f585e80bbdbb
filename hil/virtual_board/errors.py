"""Exception root of the virtual board package."""

from __future__ import annotations


class VirtualBoardError(Exception):
    """A virtual-board problem with a message saying what to check."""
