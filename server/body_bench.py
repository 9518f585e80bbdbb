"""Benchmark (``make bench``): server memory while refusing a 200 MiB request body.

Issue 13's probe saw +380 MB of peak memory before a 413. This starts a separate server
process, sends 200 MiB at the claim endpoint twice (once chunked, once with a
``Content-Length``) from a client that keeps sending until the server closes the
connection, and prints the growth of the server's resident set (sampled every 5 ms) and how
many bytes the client got into the socket. Printed, never asserted (the target: growth
< 50 MB, SPEC §1.1); tests assert the behaviour (tests/server/test_http_hardening.py).
"""

from __future__ import annotations

import argparse
import select
import socket
import sys
import tempfile
import threading
from collections.abc import Sequence

from protocol.constants import CLAIM_PATH
from server.bench import rss_kib, start_server_process

BODY_BYTES = 200 * 1024 * 1024
CHUNK = 64 * 1024


class RssSampler:
    """The largest resident set of a process while it is sampled (every 5 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):  # a sampling period, not a wait for a condition
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


def send_body(port: int, *, chunked: bool) -> tuple[int, bytes]:
    """Bytes sent before the server closed, and the status line it answered."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY_BYTES}"
    head = f"POST {CLAIM_PATH} HTTP/1.1\r\nHost: bench\r\n{framing}\r\n\r\n".encode()
    piece = (b"%x\r\n" % CHUNK + b" " * CHUNK + b"\r\n") if chunked else b" " * CHUNK
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        while sent < BODY_BYTES:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if not (readable or writable):
                break
            if readable:
                try:
                    part = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not part:
                    break  # the server closed the connection
                answer += part
                continue
            try:
                sent += sock.send(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
    return sent, answer.split(b"\r\n", 1)[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.body_bench", description=__doc__)
    parser.add_argument("--port", type=int, default=18766)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="teddy-bench-") as tmp:
        proc = start_server_process(args.port, tmp)
        try:
            for chunked in (True, False):
                before = rss_kib(proc.pid)
                with RssSampler(proc.pid) as sampler:
                    sent, status = send_body(args.port, chunked=chunked)
                after = sampler.peak
                mode = "chunked" if chunked else "Content-Length"
                print(
                    f"refusing a 200 MiB body ({mode}): {status.decode(errors='replace')!r} "
                    f"after {sent / 1048576:.2f} MiB sent; server RSS {before} KiB -> "
                    f"peak {after} KiB, growth {(after - before) / 1024:.1f} MB  (target < 50 MB)"
                )
        finally:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
