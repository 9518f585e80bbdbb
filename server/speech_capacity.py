"""Speech capacity: a bounded, fair queue for the server's decoder slots (SPEC §6.5 rule 11).

Owns :class:`SpeechCapacity`. A decoder (a pocketsphinx pair costs ~120 MB) is the scarce
resource of the chat path; the number of slots follows the engine's pool size, so a slot
held here always finds a free decoder and no thread ever blocks waiting for one. A slot is
taken when an utterance's first audio arrives (an utterance with no audio holds nothing)
and given back when it ends, is discarded or times out.

Waiters are served first come, first served, with at most one waiting entry per device (a
newer request of the same device replaces the older one, which is refused): one device
cannot queue ahead of others. The queue holds at most ``max_waiters`` entries; a request
that finds it full, or is not served within ``wait_s``, is refused with
:class:`CapacityBusyError`, whose ``retry_after_ms`` is the time until the earliest holder
reaches its deadline (an utterance's wall-clock limit, SPEC §6.6): the latest time a slot
frees.

asyncio-level and single-threaded: call it from the event loop only. Time comes from
``clock`` (monotonic seconds) so tests can move it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from server.errors import ServerError

# pocketsphinx, measured (SPEC §6.6): grammar decoder 28 MB + open-vocabulary decoder 91 MB.
DECODER_PAIR_MB = 120
DEFAULT_SPEECH_MEMORY_MB = 4 * DECODER_PAIR_MB  # four pairs, the pool size before issue 13


def slots_for_memory(memory_mb: int) -> int:
    """How many decoder pairs fit in a memory budget (at least one)."""
    return max(1, memory_mb // DECODER_PAIR_MB)


class CapacityBusyError(ServerError):
    """No decoder slot for this utterance; try again after ``retry_after_ms``."""

    def __init__(self, message: str, *, retry_after_ms: int) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


@dataclass(frozen=True)
class Slot:
    """One lent decoder slot; give it back with :meth:`SpeechCapacity.release`."""

    token: int
    device: str
    deadline: float


class SpeechCapacity:
    def __init__(
        self,
        *,
        slots: int,
        max_waiters: int,
        wait_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if slots < 1 or max_waiters < 0 or wait_s < 0:
            raise ValueError("slots >= 1, max_waiters >= 0 and wait_s >= 0 are required")
        self.slots = slots
        self.max_waiters = max_waiters
        self.wait_s = wait_s
        self.clock = clock
        self._holders: dict[int, Slot] = {}
        self._waiters: OrderedDict[str, tuple[float, asyncio.Future[Slot]]] = OrderedDict()
        self._tokens = itertools.count(1)

    @property
    def held(self) -> int:
        return len(self._holders)

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def retry_after_ms(self) -> int:
        """Milliseconds until the earliest holder's deadline (the wait time when none)."""
        now = self.clock()
        if not self._holders:
            return max(1, round(self.wait_s * 1000))
        earliest = min(slot.deadline for slot in self._holders.values())
        return max(1, round((earliest - now) * 1000))

    async def acquire(self, device: str, *, deadline: float) -> Slot:
        """A slot for ``device``, held until ``deadline`` at the latest; else a busy error."""
        if len(self._holders) < self.slots and not self._waiters:
            return self._lend(device, deadline)
        previous = self._waiters.pop(device, None)
        if previous is not None:  # one entry per device: the newer request replaces it
            previous[1].set_exception(self._busy("replaced by a newer request of the device"))
        if len(self._waiters) >= self.max_waiters:
            raise self._busy(f"{self.max_waiters} devices already wait for a decoder")
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        self._waiters[device] = (deadline, future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=self.wait_s)
        except TimeoutError:
            self._abandon(device, future)
            raise self._busy(f"no decoder freed within {self.wait_s:g} s") from None
        except asyncio.CancelledError:
            self._abandon(device, future)
            raise

    def release(self, slot: Slot) -> None:
        """Give a slot back (twice is harmless) and serve the first waiter."""
        if self._holders.pop(slot.token, None) is None:
            return
        while self._waiters and len(self._holders) < self.slots:
            device, (deadline, future) = self._waiters.popitem(last=False)
            if not future.done():
                future.set_result(self._lend(device, deadline))

    def _lend(self, device: str, deadline: float) -> Slot:
        slot = Slot(next(self._tokens), device, deadline)
        self._holders[slot.token] = slot
        return slot

    def _abandon(self, device: str, future: asyncio.Future[Slot]) -> None:
        """A waiter gave up: drop its entry, and give back a slot lent in the meantime."""
        entry = self._waiters.get(device)
        if entry is not None and entry[1] is future:
            del self._waiters[device]
        if future.done() and not future.cancelled() and future.exception() is None:
            self.release(future.result())
        elif not future.done():
            future.cancel()

    def _busy(self, why: str) -> CapacityBusyError:
        retry = self.retry_after_ms()
        message = f"speech capacity busy ({self.slots} decoders in use): {why}; retry"
        return CapacityBusyError(f"{message} in {retry} ms", retry_after_ms=retry)
