"""Unit tests of the serial path: bench, lock lease, reset sequences, framing, flashing, errors."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest
import serial

from hil.serial import reset as rs
from hil.serial.bench import load_bench, parse_bench
from hil.serial.errors import BenchError, BoardBusyError, FlashError, PortError
from hil.serial.flashing import (
    FlashRequest,
    flash_board,
    flashed_app,
    image_md5,
    restore_factory,
    restore_layout,
)
from hil.serial.link import LineFramer, SerialLink, open_port
from hil.serial.lock import BoardLock
from hil.serial.options import SerialOptions
from hil.serial.partitions import REPO_TABLE, load_table, to_binary
from hil.serial.selection import adhoc_entry
from hil.serial.wiring import reported_wiring, wiring_line
from hil.streams import DeviceConsole
from hil.targets.base import cut_line
from protocol.image import build_app_image

pytestmark = pytest.mark.unit


# --- bench ------------------------------------------------------------------------------


def test_bench_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text(
        "version: 1\nboards:\n"
        "  - {name: a, port: /dev/ttyUSB0, reset: sideways, capabilities: [power_cut]}\n"
        "  - {name: b, chip: esp99}\n"
        "  - {name: c, port: /dev/ttyUSB0, mac: nope, colour: red}\n"
        "  - {name: d, port: /dev/ttyUSB3, restore: flash, flash: {before: wiggle}}\n"
    )
    with pytest.raises(BenchError) as info:
        load_bench(path)
    text = "\n".join(info.value.problems)
    assert "boards[0].reset: 'sideways' is not one of" in text
    assert "boards[0].capabilities: 'power_cut' follows from power_switch" in text
    assert "boards[1]: needs one of port, usb_location, serial_number, mac" in text
    assert "boards[1].chip: 'esp99'" in text
    assert "boards[2].mac: 'nope' is not a MAC" in text
    assert "boards[2].colour: unknown key" in text
    assert "c and a have the same port" in text
    assert "boards[3].restore: 'flash' is not one of otadata, none" in text
    assert "boards[3].flash.before: 'wiggle' is not one of default-reset" in text


def test_bench_capabilities_follow_the_wiring(tmp_path: Path) -> None:
    bench = parse_bench(
        {
            "version": 1,
            "lock_dir": str(tmp_path),
            "boards": [
                {"name": "plain", "port": "/dev/ttyUSB0"},
                {
                    "name": "wired",
                    "serial_number": "X1",
                    "mac": "24-6F-28-AA-BB-CC",
                    "capabilities": ["audio_in", "audio_out"],
                    "power_switch": {"on": "true", "off": "true"},
                },
                {
                    "name": "frozen",
                    "port": "socket://127.0.0.1:1",
                    "reset": "none",
                    "restore": "none",
                    "flash": {"before": "no-reset"},
                },
            ],
        },
        path=tmp_path / "bench.yaml",
    )
    assert bench.board("plain").capabilities == {"ota", "reset"}
    assert bench.board("wired").capabilities == {
        "ota",
        "reset",
        "power_cut",
        "audio_in",
        "audio_out",
    }
    assert bench.board("wired").mac == "24:6f:28:aa:bb:cc"
    assert bench.board("frozen").capabilities == {"ota"}
    assert bench.board("plain").restore == "otadata"  # the default: undo an earlier OTA
    assert bench.board("frozen").restore == "none"
    assert bench.board("frozen").flash.before == "no-reset"
    with pytest.raises(BenchError, match="no board named 'x'; boards: plain, wired, frozen"):
        bench.board("x")


# --- lock -------------------------------------------------------------------------------


def test_lock_contention_names_the_holder(tmp_path: Path) -> None:
    first = BoardLock("bear-1", lock_dir=tmp_path, purpose="run A")
    first.acquire(wait_s=0, renew=False)
    second = BoardLock("bear-1", lock_dir=tmp_path, purpose="run B")
    with pytest.raises(BoardBusyError) as info:
        second.acquire(wait_s=0.3)
    message = str(info.value)
    assert f"pid {os.getpid()}" in message and "run A" in message and "waited 0 s" in message
    assert str(first.path) in message
    first.release()
    assert second.acquire(wait_s=0, renew=False).purpose == "run B"
    second.release()
    assert not second.path.exists()


def test_expired_lease_is_taken_over_and_the_old_holder_notices(tmp_path: Path) -> None:
    now = [1000.0]
    old = BoardLock("b", lock_dir=tmp_path, ttl_s=30, clock=lambda: now[0])
    old.acquire(wait_s=0, renew=False)
    new = BoardLock("b", lock_dir=tmp_path, ttl_s=30, clock=lambda: now[0])
    assert new.try_acquire() is not None  # still valid
    now[0] += 31  # the holder was killed and stopped renewing
    assert new.try_acquire() is None
    assert old.renew() is False
    assert old.lost is not None and "taken over by pid" in old.lost
    old.release()  # must not delete the new holder's file
    assert new.current() is not None and new.current() == new.lease


def test_dead_owner_on_this_host_is_taken_over_at_once(tmp_path: Path) -> None:
    holder = BoardLock("b", lock_dir=tmp_path)
    holder.acquire(wait_s=0, renew=False)
    taker = BoardLock("b", lock_dir=tmp_path, is_alive=lambda pid: False)
    assert taker.try_acquire() is None


def test_renewal_extends_the_lease(tmp_path: Path) -> None:
    now = [0.0]
    lock = BoardLock("b", lock_dir=tmp_path, ttl_s=10, clock=lambda: now[0])
    lease = lock.acquire(wait_s=0, renew=False)
    now[0] = 8.0
    assert lock.renew()
    assert lock.current() is not None and lock.current().expires == 18.0  # type: ignore[union-attr]
    assert lease.expires == 10.0


# --- reset ------------------------------------------------------------------------------


class RecordingPort:
    def __init__(self) -> None:
        self.events: list[str] = []
        self._dtr = False
        self._rts = False

    @property
    def dtr(self) -> bool:
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = value
        self.events.append(f"D{int(value)}")

    @property
    def rts(self) -> bool:
        return self._rts

    @rts.setter
    def rts(self, value: bool) -> None:
        self._rts = value
        self.events.append(f"R{int(value)}")


def test_classic_bootloader_sequence_holds_gpio0_low_when_en_rises() -> None:
    port = RecordingPort()
    waits: list[float] = []
    rs.run_sequence(port, rs.sequence("classic", "bootloader"), sleep=waits.append)
    # RTS writes are followed by a DTR re-write (usbser.sys quirk).
    assert port.events == ["D0", "R1", "D0", "D1", "R0", "D1", "D0"]
    assert waits == [0.1, 0.05]
    assert rs.describe(rs.CLASSIC_RUN) == "D0|R1|W0.1|R0"


def test_usb_jtag_sequence_never_drops_both_lines_together() -> None:
    port = RecordingPort()
    states: list[tuple[bool, bool]] = []
    rs.run_sequence(
        port,
        rs.sequence("usb-jtag", "bootloader"),
        sleep=lambda s: states.append((port.dtr, port.rts)),
    )
    assert states == [(False, False), (True, False), (False, True)]
    with pytest.raises(Exception, match="no DTR/RTS sequence for reset method 'console'"):
        rs.sequence("console", "run")


# --- framing ----------------------------------------------------------------------------


def test_framer_handles_partial_lines_garbage_and_stamps_the_first_byte() -> None:
    clock = iter([1.0, 2.0, 3.0, 4.0, 5.0])
    got: list[tuple[float, str]] = []
    framer = LineFramer(lambda t, s: got.append((t, s)), clock=lambda: next(clock))
    framer.feed(b"@teddy 1 boot ")  # t=1.0 first byte
    framer.feed(b"{}\r\nabc\xff\xfe")  # line 1 done; "abc" started at t=2.0
    framer.feed(b"def\n")
    framer.feed(b"tail")
    framer.flush()
    assert got == [(1.0, "@teddy 1 boot {}"), (2.0, "abc\ufffd\ufffddef"), (3.0, "tail")]


def test_framer_marks_a_line_the_harness_cut_off() -> None:
    got: list[str] = []
    framer = LineFramer(lambda _t, s: got.append(s))
    framer.feed(b"@teddy 97 ")
    framer.flush(cut="power-off")
    framer.feed(b"@teddy 98 ")
    framer.flush()  # no cut named: the bytes as they came (a board that never sent LF)
    assert got == ["[line cut by power-off] @teddy 97 ", "@teddy 98 "]


def test_a_power_cut_mid_line_is_not_a_broken_event_line(tmp_path: Path) -> None:
    """The CI flake of ota/power_cut_resume on the virtual board: SPEC §8.1 "Cut lines"."""
    console = DeviceConsole(log_path=tmp_path / "console.log", events_path=tmp_path / "e.jsonl")
    got: list[str] = []
    seen_whole_line = threading.Event()

    def on_line(_stamp: float, text: str) -> None:
        got.append(text)
        console.add_line(text)
        seen_whole_line.set()

    port = serial.serial_for_url("loop://", timeout=0.05)
    link = SerialLink(port, board="bear-1", log_path=tmp_path / "serial.log", on_line=on_line)
    link.start()
    port.write(b'@teddy 96 state {"from":"idle","to":"updating"}\n@teddy 97 ')
    assert seen_whole_line.wait(5), "the reader thread never framed the first line"
    link.close("power-off")
    console.close()
    assert got[1] == "[line cut by power-off] @teddy 97 "
    assert [r.problem for r in console.records] == [None, None]
    assert "[line cut by power-off] @teddy 97" in (tmp_path / "serial.log").read_text()
    # The same bytes without the harness's cut are still a defect of the target (SPEC §8.1).
    other = DeviceConsole(log_path=tmp_path / "c2.log", events_path=tmp_path / "e2.jsonl")
    other.add_line("@teddy 97 ")
    other.add_line(cut_line("@teddy 97 ", "reset"))
    other.close()
    assert [r.problem is not None for r in other.records] == [True, False]


def test_missing_port_is_a_one_line_error() -> None:
    with pytest.raises(PortError) as info:
        open_port("/dev/ttyUSB99", baud=115200, board="bear-9")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("cannot open /dev/ttyUSB99 for board bear-9: no such port")
    assert "check the cable and `teddy-hil boards`" in message


# --- flashing ---------------------------------------------------------------------------


class FakeLoader:
    chip = "esp32"

    def __init__(self) -> None:
        self.flash = bytearray(b"\xff" * 0x400000)
        self.writes: list[int] = []
        self.erases: list[int] = []

    def md5(self, offset: int, size: int) -> str:
        return hashlib.md5(
            bytes(self.flash[offset : offset + size]), usedforsecurity=False
        ).hexdigest()

    def read(self, offset: int, size: int) -> bytes:
        return bytes(self.flash[offset : offset + size])

    def write(self, offset: int, data: bytes) -> None:
        self.writes.append(offset)
        self.flash[offset : offset + len(data)] = data

    def erase(self, offset: int, size: int) -> None:
        self.erases.append(offset)
        self.flash[offset : offset + size] = b"\xff" * size

    def mac(self) -> str:
        return "24:0a:c4:a7:95:ba"

    def finish(self, *, reset: bool) -> None:
        pass


def test_flashing_skips_what_the_board_already_holds(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(b"\xe9" + bytes(range(256)) * 40 + b"\x01")  # not a multiple of 4
    loader = FakeLoader()
    first = flash_board(loader, FlashRequest(app=app), board="bear-1")
    assert [(a.what, a.done) for a in first.actions] == [
        ("partition-table", "written"),  # the board had none: it could not boot the app
        ("app", "written"),
        ("otadata", "skipped"),
    ]
    assert "the board had none" in first.actions[0].why
    assert loader.writes == [0x8000, 0x20000]  # ota_0 of firmware/partitions.csv
    loader.flash[0xF000] = 0x00  # an OTA since then: otadata points at another slot
    again = flash_board(loader, FlashRequest(app=app, erase_nvs=True), board="bear-1")
    assert [(a.what, a.done) for a in again.actions] == [
        ("app", "skipped"),
        ("otadata", "erased"),
        ("nvs", "erased"),
    ]
    assert "flash MD5" in again.actions[0].why and "equals the image's" in again.actions[0].why
    assert loader.writes == [0x8000, 0x20000]  # the table now comes from the board
    assert "board already up to date" not in again.text()
    third = flash_board(loader, FlashRequest(app=app, app_offset=0x10000), board="bear-1")
    assert third.actions[0].offset == 0x10000 and third.actions[0].done == "written"
    assert third.actions[1].why.startswith("left alone: overlaps the app at 0x10000")
    assert image_md5(app.read_bytes()) == loader.md5(0x10000, -(-len(app.read_bytes()) // 4) * 4)


def test_flashing_refuses_a_non_image(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(b"\x00" * 64)
    with pytest.raises(FlashError, match="not an ESP app image"):
        flash_board(FakeLoader(), FlashRequest(app=app), board="b")


def test_wiring_line_round_trip_and_unknown_names_dropped() -> None:
    line = wiring_line(["audio_in", "audio_out"])
    assert line == "I (125) board: wiring: audio_in,audio_out"
    assert reported_wiring(["ets Jul 29 2019", line]) == frozenset({"audio_in", "audio_out"})
    assert reported_wiring(["I (1) board: wiring: audio_in,laser"]) == frozenset({"audio_in"})
    assert reported_wiring(["I (1) board: wiring: "]) == frozenset()
    assert reported_wiring(["@teddy 5 boot {}"]) is None


def test_a_bare_port_takes_its_wiring_from_the_board_unless_declared() -> None:
    assert adhoc_entry("/dev/ttyUSB0", SerialOptions()).wiring_from_board
    declared = SerialOptions(capabilities=frozenset())  # declared: nothing is wired
    entry = adhoc_entry("/dev/ttyUSB0", declared)
    assert not entry.wiring_from_board and entry.wired == frozenset()


def test_factory_restore_erases_otadata_only_when_an_ota_wrote_it() -> None:
    loader = FakeLoader()
    loader.flash[0x8000 : 0x8000 + 0xC00] = to_binary(load_table(REPO_TABLE))
    loader.flash[0x20000 : 0x20000 + 400] = build_app_image(version="3.1.4")[:400]
    layout = restore_layout(loader, layout_table=None)
    assert layout.source == "the board (0x8000)"
    clean = restore_factory(loader, layout)
    assert (clean.what, clean.done, clean.offset) == ("otadata", "skipped", 0xF000)
    loader.flash[0xF000:0xF004] = (2).to_bytes(4, "little")  # an OTA selected ota_1
    dirty = restore_factory(loader, layout)
    assert dirty.done == "erased" and "changed the boot slot" in dirty.why
    assert loader.erases == [0xF000] and loader.flash[0xF000:0xF004] == b"\xff" * 4
    app = flashed_app(loader, layout)
    assert app is not None and app.version == "3.1.4"  # what the board will boot


def test_factory_restore_on_a_board_without_a_table_uses_the_idf_default() -> None:
    loader = FakeLoader()
    layout = restore_layout(loader, layout_table=None)
    assert "default two-OTA" in layout.source
    assert restore_factory(loader, layout).offset == 0xD000
    assert flashed_app(loader, layout) is None  # blank flash: nothing to boot
