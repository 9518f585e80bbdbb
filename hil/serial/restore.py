"""Factory restore before a scenario: undo what an earlier run's OTA left on the board.

Owns the per-scenario esptool session the `serial` target opens before it attaches to
the console. An OTA scenario leaves the board booting another slot (SPEC §5.5), which
would make the next scenario start on the wrong version; pytest-embedded re-flashes per
test for the same reason. Erasing `otadata` (only when something is in it) is enough and
cheaper: the bootloader then starts the first app slot, which still holds the image
`teddy-hil flash` wrote. What was done and why goes to `<work_dir>/flash.log` and to the
returned `Action` (the target puts it in serial.log and board.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hil.serial.bench import BoardEntry
from hil.serial.flashing import Action, connect, flashed_app, restore_factory, restore_layout
from protocol.image import AppDescriptor


@dataclass(frozen=True)
class Restored:
    action: Action
    app: AppDescriptor | None  # what the first app slot holds (version, secure_version)


def esptool_before(entry: BoardEntry) -> str:
    """esptool's `--before` for this board: a reconnect board is reset by connecting."""
    return "no-reset" if entry.reset == "reconnect" else entry.flash.before


def restore_board(entry: BoardEntry, port: str, *, log_path: Path) -> Restored:
    """Connect the ROM loader (the stub if allowed), erase otadata if dirty, reset."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as log:
        loader = connect(
            port,
            chip=entry.chip,
            baud=entry.flash.baud,
            stub=entry.flash.stub,
            before=esptool_before(entry),
            log=log,
        )
        try:
            layout = restore_layout(loader, layout_table=entry.flash.partition_table)
            action = restore_factory(loader, layout)
            app = flashed_app(loader, layout)
        finally:
            loader.finish(reset=entry.reset in ("classic", "usb-jtag"))
        print(f"teddy-hil restore: {action.line()}", file=log)
    return Restored(action, app)
