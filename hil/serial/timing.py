"""Benchmark of the serial path on a virtual board: `python -m hil.serial.timing`.

Prints numbers, asserts nothing (speed targets are read, not tested): `teddy-hil flash`
of an app on a blank board and again (skipped: MD5 on the board), the factory restore a
scenario pays before it starts (esptool connect + stub + otadata check), and one
scenario (`claim/happy`) on `--target serial`, each through the real esptool API and a
`teddy-hil virtual-board` process on a loopback port, with realistic device timing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hil.serial.bench import BoardEntry
from hil.serial.restore import restore_board

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _timed(args: list[str]) -> tuple[float, str]:
    began = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return time.monotonic() - began, proc.stdout


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else ""


def main() -> int:
    from protocol.image import build_app_image

    with tempfile.TemporaryDirectory(prefix="teddy-serial-bench-") as tmp:
        work = Path(tmp)
        url = f"socket://127.0.0.1:{_free_port()}"
        board = subprocess.Popen(
            [sys.executable, "-m", "hil.cli", "virtual-board", "--listen", url,
             "--dir", str(work / "board"), "--server", "http://127.0.0.1:9"],
            stdout=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        try:
            assert board.stdout is not None and "listening" in board.stdout.readline()
            app = work / "teddy.bin"
            app.write_bytes(build_app_image(version="1.0.0", payload=bytes(200_000)))
            flash = [sys.executable, "-m", "hil.cli", "flash", str(app), "--port", url,
                     "--log", str(work / "flash.log")]  # fmt: skip
            first_s, first = _timed(flash)
            print(f"teddy-hil flash, {app.stat().st_size} B app on a blank board:"
                  f" {first_s:.2f} s wall ({_last_line(first)})")  # fmt: skip
            again_s, again = _timed(flash)
            print(f"teddy-hil flash, the same image again: {again_s:.2f} s wall"
                  f" ({_last_line(again)})")  # fmt: skip
            entry = BoardEntry(name="bench", port=url, reset="reconnect")
            samples = []
            for _ in range(5):
                began = time.monotonic()
                restore_board(entry, url, log_path=work / "restore.log")
                samples.append(time.monotonic() - began)
            samples.sort()
            print(f"factory restore before a scenario (n=5): median {samples[2]:.3f} s,"
                  f" max {samples[-1]:.3f} s")  # fmt: skip
            # Flags, not the environment: they beat any TEDDY_SERIAL_* the caller has set;
            # `board`: the virtual board's `wiring:` line says what it has.
            run_s, _ = _timed(
                [sys.executable, "-m", "hil.cli", "run", "scenarios/claim/happy.yaml",
                 "--target", "serial", "--port", url, "--serial-capabilities", "board",
                 "--artifacts", str(work / "artifacts")],
            )  # fmt: skip
            print(
                f"claim/happy on --target serial (restore, provisioning, run): {run_s:.2f} s wall"
            )
        finally:
            board.terminate()
            board.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
