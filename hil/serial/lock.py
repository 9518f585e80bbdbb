"""Board locks with a lease, so a killed CI job never leaves a board locked (labgrid's pain).

A lock is a JSON file `<lock_dir>/<board>.lock` holding the owner (pid, host, what it
runs), a random token and `expires` (epoch seconds). The holder renews the lease every
`ttl / 3` from a background thread while it uses the board. Someone else may take the
lock over when the lease has expired, or at once when the owner was on this host and
its pid is gone (a `kill -9`ed job). A second run asking for a held board polls until
`wait_s` runs out, then fails with a message naming the holder.

Check-and-write happens under `flock` on `<lock_dir>/.guard`, so two runs on one host
never both take an expired lease. Leases (not flock alone) make the lock survive a lock
dir on a shared mount, where a crashed holder's flock would never be released.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.serial.errors import BoardBusyError, SerialPathError

DEFAULT_TTL_S: Final = 30.0
DEFAULT_WAIT_S: Final = 60.0
POLL_S: Final = 0.2

Clock = Callable[[], float]


@dataclass(frozen=True)
class Lease:
    board: str
    token: str
    pid: int
    host: str
    purpose: str
    acquired: float
    expires: float

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Lease | None:
        try:
            data = json.loads(text)
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):
            return None  # a torn or foreign file: treated as no lease

    def holder(self, now: float) -> str:
        left = self.expires - now
        since = time.strftime("%H:%M:%S", time.localtime(self.acquired))
        return (
            f"pid {self.pid} on {self.host} ({self.purpose}, since {since},"
            f" lease {'expires in' if left >= 0 else 'expired'} {abs(left):.0f} s)"
        )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class BoardLock:
    """The lease on one board; use as a context manager or acquire()/release()."""

    def __init__(
        self,
        board: str,
        *,
        lock_dir: Path,
        purpose: str = "teddy-hil",
        ttl_s: float = DEFAULT_TTL_S,
        clock: Clock = time.time,
        is_alive: Callable[[int], bool] = pid_alive,
    ) -> None:
        self.board = board
        self.dir = lock_dir
        self.path = lock_dir / f"{board}.lock"
        self.purpose = purpose
        self.ttl_s = ttl_s
        self._clock = clock
        self._alive = is_alive
        self._host = socket.gethostname()
        self.lease: Lease | None = None
        self.lost: str | None = None  # set when someone took the lease while we held it
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # --- file access ----------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with (self.dir / ".guard").open("a") as guard:
                fcntl.flock(guard, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(guard, fcntl.LOCK_UN)
        except PermissionError as exc:
            raise SerialPathError(
                f"cannot use the lock dir {self.dir}: {exc.strerror};"
                " set lock_dir in the bench file"
            ) from None

    def current(self) -> Lease | None:
        try:
            return Lease.from_json(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def _write(self, lease: Lease) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(lease.to_json(), encoding="utf-8")
        os.replace(tmp, self.path)

    def _free(self, lease: Lease | None, now: float) -> bool:
        if lease is None or lease.expires < now:
            return True
        return lease.host == self._host and not self._alive(lease.pid)

    # --- public ---------------------------------------------------------------------

    def try_acquire(self) -> Lease | None:
        """Take the lock if it is free, expired or its holder is dead; else the holder's lease."""
        with self._guard():
            now = self._clock()
            held = self.current()
            if not self._free(held, now):
                return held
            self.lease = Lease(
                board=self.board,
                token=secrets.token_hex(8),
                pid=os.getpid(),
                host=self._host,
                purpose=self.purpose,
                acquired=now,
                expires=now + self.ttl_s,
            )
            self._write(self.lease)
            self.lost = None
            return None

    def acquire(self, *, wait_s: float = DEFAULT_WAIT_S, renew: bool = True) -> Lease:
        """Wait up to `wait_s` (0 = fail at once); BoardBusyError names the holder."""
        deadline = time.monotonic() + wait_s
        while True:
            holder = self.try_acquire()
            if holder is None:
                assert self.lease is not None
                if renew:
                    self._start_renewer()
                return self.lease
            if time.monotonic() >= deadline:
                waited = f"waited {wait_s:.0f} s" if wait_s else "not waiting (wait 0)"
                raise BoardBusyError(
                    f"board {self.board} is locked by {holder.holder(self._clock())}; {waited};"
                    f" try later, or delete {self.path} if that job is gone"
                )
            time.sleep(POLL_S)

    def renew(self) -> bool:
        """Extend our lease; False (and `lost` set) when someone else holds the file now."""
        if self.lease is None:
            return False
        with self._guard():
            held = self.current()
            if held is None or held.token != self.lease.token:
                who = held.holder(self._clock()) if held else "nobody (the file was removed)"
                self.lost = f"the lease on board {self.board} was taken over by {who}"
                return False
            self.lease = Lease(**{**self.lease.__dict__, "expires": self._clock() + self.ttl_s})
            self._write(self.lease)
            return True

    def release(self) -> None:
        self._stop.set()
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.join(timeout=5)
        lease, self.lease = self.lease, None
        if lease is None:
            return
        with self._guard():
            held = self.current()
            if held is not None and held.token == lease.token:
                self.path.unlink(missing_ok=True)

    def _start_renewer(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"lease-{self.board}", daemon=True
        )
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            with contextlib.suppress(OSError):
                if not self.renew():
                    return

    def __enter__(self) -> BoardLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
