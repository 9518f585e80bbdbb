"""Which board the `serial` target uses, from the scenario, the environment or a bench file.

Owns the environment variables of the serial tier and the choice of board: the scenario's
`device.port` / `device.board`, `$TEDDY_SERIAL_PORT` (what `teddy-hil run --port` and
pytest `--port` set), `$TEDDY_BOARD`, and the bench file `$TEDDY_BENCH`. A board given
only by its port gets its capabilities from `$TEDDY_SERIAL_CAPABILITIES`, never guessed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from hil.errors import HilError
from hil.serial.bench import (
    RESET_METHODS,
    RESTORE_METHODS,
    WIRED_CAPABILITIES,
    Bench,
    BoardEntry,
    load_bench,
)

ENV_PORT: Final = "TEDDY_SERIAL_PORT"
ENV_BENCH: Final = "TEDDY_BENCH"
ENV_BOARD: Final = "TEDDY_BOARD"
ENV_CAPS: Final = "TEDDY_SERIAL_CAPABILITIES"
ENV_RESET: Final = "TEDDY_SERIAL_RESET"
ENV_LOCK_WAIT: Final = "TEDDY_LOCK_WAIT"
ENV_RESTORE: Final = "TEDDY_SERIAL_RESTORE"
HARNESS_KEYS: Final = ("port", "board")
COMMAND_TIMEOUT_S: Final = 5.0


def adhoc_entry(port: str) -> BoardEntry:
    """A board given only by its port: capabilities from the environment, never guessed."""
    declared = os.environ.get(ENV_CAPS)
    caps = {c.strip() for c in (declared or "").split(",") if c.strip()}
    unknown = caps - set(WIRED_CAPABILITIES)
    if unknown:
        raise HilError(
            f"{ENV_CAPS}: unknown {', '.join(sorted(unknown))};"
            f" valid: {', '.join(WIRED_CAPABILITIES)}"
        )
    method = os.environ.get(ENV_RESET) or (
        "reconnect" if port.startswith("socket://") else "classic"
    )
    if method not in RESET_METHODS:
        raise HilError(f"{ENV_RESET}={method!r}; valid: {', '.join(RESET_METHODS)}")
    restore = os.environ.get(ENV_RESTORE) or "otadata"
    if restore not in RESTORE_METHODS:
        raise HilError(f"{ENV_RESTORE}={restore!r}; valid: {', '.join(RESTORE_METHODS)}")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", port).strip("_")[:64] or "board"
    return BoardEntry(
        name=name,
        port=port,
        reset=method,
        wired=frozenset(caps),
        restore=restore,
        wiring_from_board=declared is None,
    )


def candidates(device: Mapping[str, object]) -> tuple[list[BoardEntry], Bench | None]:
    port = str(device.get("port") or os.environ.get(ENV_PORT) or "") or None
    board = str(device.get("board") or os.environ.get(ENV_BOARD) or "") or None
    bench_path = os.environ.get(ENV_BENCH)
    bench = load_bench(Path(bench_path)) if bench_path else None
    if bench is None:
        if port is None:
            raise HilError(f"the serial target needs a port: --port URL or ${ENV_PORT}")
        return [adhoc_entry(port)], None
    if board is not None:
        return [bench.board(board)], bench
    if port is not None:
        same = [e for e in bench.boards if e.port == port]
        return (same or [adhoc_entry(port)]), bench
    return list(bench.boards), bench


def server_url_for(entry: BoardEntry, url: str) -> str:
    """The harness's server as the board reaches it (a real board cannot use 127.0.0.1)."""
    if not entry.server_host:
        return url
    parts = urlsplit(url)
    netloc = f"{entry.server_host}:{parts.port}" if parts.port else entry.server_host
    return urlunsplit(parts._replace(netloc=netloc))
