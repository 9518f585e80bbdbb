"""Server-side events the harness asserts on (``expect_server`` steps).

The server runs in its own thread (``server.embedded``); the harness reads from another.
Each subscriber gets its own thread-safe queue, so a slow reader never blocks a request
and several readers (the runner, a log writer) see every event.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServerEvent:
    t: float
    name: str
    data: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"t": self.t, "name": self.name, "data": self.data}


class EventQueue:
    """One subscriber's view of the event stream."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queue: queue.Queue[ServerEvent] = queue.Queue()

    def put(self, event: ServerEvent) -> None:
        self._queue.put(event)

    def get(self, timeout: float | None = None) -> ServerEvent | None:
        """The next event, or None when ``timeout`` seconds pass without one."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[ServerEvent]:
        events: list[ServerEvent] = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._subscribers: list[EventQueue] = []
        self._lock = threading.Lock()

    def subscribe(self) -> EventQueue:
        subscriber = EventQueue(self)
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: EventQueue) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def publish(self, name: str, data: Mapping[str, object]) -> None:
        event = ServerEvent(self._clock(), name, dict(data))
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.put(event)
