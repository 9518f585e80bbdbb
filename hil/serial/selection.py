"""Which board the `serial` target uses, from the scenario, its options or a bench file.

Owns the choice of board: the scenario's `device.port` / `device.board` first, then the
`SerialOptions` (`port`, `board`, `bench`; hil.serial.options). A board given only by its
port becomes an ad-hoc bench entry whose capabilities, reset and restore methods come
from the options, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from hil.errors import HilError
from hil.serial.audio_wiring import AudioWiring
from hil.serial.bench import DEFAULT_LOCK_DIR, Bench, BoardEntry, load_bench
from hil.serial.options import SerialOptions


def adhoc_entry(port: str, options: SerialOptions) -> BoardEntry:
    """A board given only by its port: wiring, reset and restore from `options`."""
    method = options.reset or ("reconnect" if port.startswith("socket://") else "classic")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", port).strip("_")[:64] or "board"
    return BoardEntry(
        name=name,
        port=port,
        reset=method,
        wired=options.capabilities or frozenset(),
        restore=options.restore,
        wiring_from_board=options.capabilities is None,
        audio=options.audio or AudioWiring(),
    )


def candidates(
    device: Mapping[str, object], options: SerialOptions
) -> tuple[list[BoardEntry], Bench | None]:
    """The boards a scenario may run on (any free one of several), and the bench."""
    port = str(device.get("port") or options.port or "") or None
    board = str(device.get("board") or options.board or "") or None
    bench = load_bench(options.bench) if options.bench else None
    if bench is None:
        if port is None:
            raise HilError("the serial target needs a port: --port URL, or a bench file --bench")
        return [adhoc_entry(port, options)], None
    if board is not None:
        return [bench.board(board)], bench
    if port is not None:
        same = [e for e in bench.boards if e.port == port]
        return (same or [adhoc_entry(port, options)]), bench
    return list(bench.boards), bench


def lock_dir_for(options: SerialOptions, bench: Bench | None) -> Path:
    """Where board locks live: the option, else the bench's `lock_dir`, else the default."""
    return options.lock_dir or (bench.lock_dir if bench else DEFAULT_LOCK_DIR)


def server_url_for(entry: BoardEntry, url: str) -> str:
    """The harness's server as the board reaches it (a real board cannot use 127.0.0.1)."""
    if not entry.server_host:
        return url
    parts = urlsplit(url)
    netloc = f"{entry.server_host}:{parts.port}" if parts.port else entry.server_host
    return urlunsplit(parts._replace(netloc=netloc))
