"""Stopping a long-running console process cleanly on SIGINT/SIGTERM.

Shared by `teddy-emulator` and `teddy-hil virtual-board`: both serve a console until told
to stop, then power the device off so the server sees a close frame, not a dropped link.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_event_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, on the running loop."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # add_signal_handler raises NotImplementedError where the loop has no signal
        # support (Windows) and RuntimeError off the main thread (tests run the CLI
        # functions in threads); there the caller stops by other means (EOF, stop()).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    return stop
