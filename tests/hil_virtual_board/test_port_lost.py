"""Issue 5 acceptance on errors: a cable pulled mid-scenario, and a port that is no ESP32.

The cable is a TCP relay between the serial target and a virtual board process: cutting
it closes the target's `socket://` port in the middle of a step, as unplugging a USB cable
closes /dev/ttyUSB0. The run must fail that scenario at once (not at the step's timeout)
with the board name and the log path, and go on with the next scenario.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hil.result import Status
from hil.runner.session import RunRequest, run_session
from hil.serial.audio_wiring import parse_audio_option
from hil.serial.cli import flash_main
from hil.serial.options import SerialOptions
from hil.targets.base import ChosenTarget
from hil.targets.serial_target import SerialTarget
from hil.virtual_board.flash_image import FlashImage
from protocol.image import build_app_image

pytestmark = pytest.mark.emu

REPO = Path(__file__).resolve().parents[2]


class Cable:
    """A TCP relay; `cut_on` closes the live connection when the harness sends a marker."""

    def __init__(self, board_port: int, *, cut_on: bytes) -> None:
        self._board = ("127.0.0.1", board_port)
        self._cut_on = cut_on
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            board = socket.create_connection(self._board)
            pair = (client, board)
            threading.Thread(target=self._pump, args=(client, board, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(board, client, None), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair: object) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                if pair is not None and self._cut_on in data and self.cuts == 0:
                    self.cuts += 1  # only the first scenario loses its cable
                    break
        except OSError:
            pass
        finally:  # shutdown, not only close: it wakes the other pump's recv and sends FIN
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._listener.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def board_port(tmp_path: Path) -> Iterator[int]:
    flash = FlashImage(tmp_path / "board")
    flash.write(0x10000, build_app_image(version="1.0.0", payload=bytes(2000)))
    flash.close()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hil.cli", "virtual-board", "--listen",
         f"socket://127.0.0.1:{port}", "--dir", str(tmp_path / "board"), "--server",
         "http://127.0.0.1:9", "--timing", "fast"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None and "listening" in proc.stdout.readline()
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cable_pulled_mid_scenario_fails_at_once_and_the_run_goes_on(
    board_port: int, tmp_path: Path
) -> None:
    cable = Cable(board_port, cut_on=b"talk ")
    heard = parse_audio_option(f"files:{tmp_path / 'board' / 'audio'}")  # its speaker files
    wired = frozenset({"audio_in", "audio_out"})
    options = SerialOptions(port=cable.url, capabilities=wired, audio=heard)
    target = ChosenTarget(SerialTarget, options)
    paths = (
        REPO / "scenarios/streaming/long_utterance.yaml",  # cut at its `talk`
        REPO / "scenarios/streaming/one_turn.yaml",  # runs after it (the order is sorted)
    )
    try:
        session = run_session(RunRequest(paths=paths, target=target, artifacts=tmp_path))
    finally:
        cable.close()
    cut, after = session.results
    assert cable.cuts == 1
    assert cut.status is Status.FAILED and cut.artifact_dir is not None
    assert "board socket_127.0.0.1_" in cut.reason and "serial port" in cut.reason
    assert "closed" in cut.reason and str(cut.artifact_dir / "device" / "serial.log") in cut.reason
    failed = next(s for s in cut.steps if s.status == "failed")
    assert failed.duration_s < 5.0, "the lost port must fail the step before its timeout (20 s+)"
    assert "port lost" in (cut.artifact_dir / "device" / "serial.log").read_text()
    assert after.status is Status.PASSED, after.detail


def test_a_port_that_is_not_an_esp32_is_a_one_line_error(tmp_path: Path) -> None:
    """A TCP 'modem' that answers everything with text: esptool finds no ROM loader."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            while conn.recv(4096):
                conn.sendall(b"OK\r\n")

    threading.Thread(target=answer, daemon=True).start()
    app = tmp_path / "app.bin"
    app.write_bytes(build_app_image(version="1.0.0"))
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        code = flash_main(
            [str(app), "--port", f"socket://127.0.0.1:{listener.getsockname()[1]}",
             "--log", str(tmp_path / "flash.log"), "--lock-wait", "0"],
            out=stream,
        )  # fmt: skip
    listener.close()
    text = out.read_text().strip()
    assert code == 1
    assert len(text.splitlines()) == 1, text
    assert text.startswith("teddy-hil flash: no ESP ROM loader answered on socket://")
    assert "check the chip" in text


def test_a_port_that_does_not_exist_is_a_one_line_error(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(build_app_image(version="1.0.0"))
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        code = flash_main(
            [str(app), "--port", "/dev/ttyTEDDY404", "--log", str(tmp_path / "flash.log")],
            out=stream,
        )
    text = out.read_text().strip()
    assert code == 1 and len(text.splitlines()) == 1, text
    assert "/dev/ttyTEDDY404" in text and "check" in text


def test_a_run_on_a_missing_port_fails_each_scenario_in_one_line(tmp_path: Path) -> None:
    target = ChosenTarget(SerialTarget, SerialOptions(port="/dev/ttyTEDDY404"))
    paths = (REPO / "scenarios/claim/happy.yaml",)
    session = run_session(RunRequest(paths=paths, target=target, artifacts=tmp_path))
    (result,) = session.results
    assert result.status is Status.FAILED
    assert result.reason.startswith("set-up failed: board dev_ttyTEDDY404")
    assert "check the cable" in result.reason and "\n" not in result.reason
    assert "Traceback" not in result.detail  # kept in error.txt for whoever needs it
    assert result.artifact_dir is not None and (result.artifact_dir / "error.txt").exists()
