"""One open serial port: a reader thread that frames lines, timestamps them and logs them.

pyserial is blocking, so a daemon thread reads and hands each complete line to a
callback (the target's `LineBuffer`, whose stream is thread-safe). A line is stamped
with the time its *first* byte arrived, not its LF, so a slow line still sorts where the
board started printing it. Partial lines wait for their LF; the harness cutting the
board off (a power cut, a reset, closing the port) ends the line being printed, which
is then marked as cut (`hil.targets.base.cut_line`, SPEC §8.1) rather than parsed as a
broken event line. Non-UTF-8 bytes become U+FFFD (SPEC §8.1 lines are UTF-8; a garbled
boot ROM banner at 74880 baud must not end the run). Every line also goes to
`serial.log` with wall-clock time.

When the port dies (cable pulled, `socket://` peer closed) the thread records why in
`lost`; the target turns that into an error naming the board and the log.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import serial

from hil.serial.errors import PortError
from hil.targets.base import MAX_LINE_CHARS, cut_line

READ_TIMEOUT_S: Final = 0.05


class LineFramer:
    """Bytes -> (first-byte time, text) lines, split on LF (SPEC §8.1)."""

    def __init__(
        self, emit: Callable[[float, str], None], *, clock: Callable[[], float] = time.time
    ) -> None:
        self._emit = emit
        self._clock = clock
        self._pending = bytearray()
        self._started: float | None = None

    def feed(self, data: bytes) -> None:
        if data and self._started is None:
            self._started = self._clock()
        self._pending += data
        while (end := self._pending.find(b"\n")) >= 0:
            raw = bytes(self._pending[:end])
            del self._pending[: end + 1]
            self._send(raw)
            self._started = self._clock() if self._pending else None
        if len(self._pending) > MAX_LINE_CHARS * 4:  # a board that never sends LF
            self.flush()

    def _send(self, raw: bytes, cut: str | None = None) -> None:
        stamp = self._started if self._started is not None else self._clock()
        text = raw.decode("utf-8", errors="replace").removesuffix("\r")
        self._emit(stamp, text if cut is None else cut_line(text, cut))

    def flush(self, *, cut: str | None = None) -> None:
        """Emit the bytes still waiting for an LF; `cut` names who cut them off (SPEC §8.1)."""
        if self._pending:
            raw = bytes(self._pending)
            self._pending.clear()
            self._send(raw, cut)
        self._started = None


def open_port(url: str, *, baud: int, board: str) -> Any:
    """`serial.serial_for_url` with a one-line error saying what to check."""
    try:
        # DTR/RTS released at open: asserting them would hold EN low on an auto-reset circuit.
        port = serial.serial_for_url(url, baudrate=baud, timeout=READ_TIMEOUT_S, do_not_open=True)
        port.dtr = False
        port.rts = False
        port.open()
        return port
    except (serial.SerialException, OSError, ValueError) as exc:
        text = str(exc)
        if "No such file" in text or ("could not open port" in text and "2]" in text):
            why = "no such port"
        elif "ermission" in text:
            why = "permission denied (add the user to the dialout group, see the lab guide)"
        elif "busy" in text.lower() or "Resource" in text:
            why = "the port is busy (another monitor or run has it open)"
        else:
            why = " ".join(text.split()) or type(exc).__name__
        raise PortError(
            f"cannot open {url} for board {board}: {why}; check the cable and `teddy-hil boards`"
        ) from None


class SerialLink:
    """Reads `port` in a thread; lines go to `on_line(stamp, text)` and to `log_path`."""

    def __init__(
        self,
        port: Any,
        *,
        board: str,
        log_path: Path,
        on_line: Callable[[float, str], None],
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.port = port
        self.board = board
        self.log_path = log_path
        self._on_line = on_line
        self._on_lost = on_lost
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[str] = log_path.open("a", encoding="utf-8", errors="backslashreplace")
        self._log_lock = threading.Lock()
        self._framer = LineFramer(self._line)
        self._framer_lock = threading.Lock()  # the reader thread and `cut_partial_line`
        self._cut_reason = "the port closing"
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self.lost: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"serial-{board}", daemon=True)

    def start(self) -> None:
        self.note(f"opened {getattr(self.port, 'port', '?')} for board {self.board}")
        self._thread.start()

    def note(self, text: str) -> None:
        """A harness remark in serial.log (resets, provisioning), marked with `#`."""
        self._write_log(time.time(), f"# {text}")

    def _write_log(self, stamp: float, text: str) -> None:
        clock = datetime.fromtimestamp(stamp).strftime("%H:%M:%S.%f")[:-3]
        with self._log_lock:
            if not self._log.closed:
                self._log.write(f"{clock} {text}\n")
                self._log.flush()

    def _line(self, stamp: float, text: str) -> None:
        self._write_log(stamp, text)
        self._on_line(stamp, text)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.port.read(max(1, self.port.in_waiting or 1))
            except Exception as exc:  # SerialException, OSError, a socket reset
                if not self._stop.is_set():
                    self.lost = " ".join(str(exc).split()) or type(exc).__name__
                    self.note(f"port lost: {self.lost}")
                    if self._on_lost is not None:
                        self._on_lost(self.lost)
                break
            if data:
                with self._framer_lock:
                    self._framer.feed(bytes(data))
        with self._framer_lock:
            self._framer.flush(cut="the port dying" if self.lost else self._cut_reason)

    def cut_partial_line(self, why: str) -> None:
        """The harness cut the board off (power switch, reset): end the line it was printing."""
        with self._framer_lock:
            self._framer.flush(cut=why)

    def write_line(self, line: str) -> None:
        """One console command, LF-terminated, written in one call (SPEC §9.1)."""
        self.check()
        with self._write_lock:
            try:
                self.port.write((line + "\n").encode("utf-8"))
                self.port.flush()
            except Exception as exc:
                self.lost = " ".join(str(exc).split()) or type(exc).__name__
                self.check()
        self._write_log(time.time(), f"> {line}")

    def check(self) -> None:
        if self.lost is not None:
            raise PortError(
                f"board {self.board}: serial port closed mid-run ({self.lost});"
                f" check the cable and power; log: {self.log_path}"
            )

    def close(self, why: str = "the port closing") -> None:
        """Stop reading; a line the board had not finished is marked as cut by `why`."""
        self._cut_reason = why
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        with contextlib.suppress(Exception):  # a dead port must not hide the real failure
            self.port.close()
        self.note("closed")
        with self._log_lock:
            self._log.close()
