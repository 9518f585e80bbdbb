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

from collections.abc import Mapping
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


def firmware_mismatch(
    device: Mapping[str, object], *, board: str, version: str | None, secure_version: int | None
) -> str | None:
    """Why a scenario cannot run on what the board holds, or None.

    A scenario's `device.firmware_version` / `secure_version` choose the factory image on
    the emulator and the host build; a board runs what was flashed, so a scenario written
    for another version is skipped with this reason instead of failing on it.
    """
    wanted = device.get("firmware_version")
    if wanted is not None and version is not None and str(wanted) != version:
        return (
            f"board {board} runs firmware {version}, the scenario needs {wanted}"
            " (device.firmware_version): flash an image of that version, or run it on the emulator"
        )
    wanted_sv = device.get("secure_version")
    if wanted_sv is not None and secure_version is not None and wanted_sv != secure_version:
        return (
            f"board {board}'s image has secure_version {secure_version}, the scenario needs"
            f" {wanted_sv} (device.secure_version): flash such an image, or run it on the emulator"
        )
    return None
