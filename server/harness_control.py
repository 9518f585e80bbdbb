"""What the harness admin API (SPEC §11) changes in a running server: resets and the event journal.

`HarnessControl` lives on the app (`app.state.harness`) only when the server was started with a
harness token. A reset (SPEC §11.2) builds a fresh `ServerState` with the settings the harness
asks for, in a data folder of its own below `<data>/harness/`, and swaps it in: routes read the
state per request, so the next request sees the new one. The chat route follows a changed
`chat_path`. `EventJournal` numbers the server's events so a harness on another machine can
poll them (SPEC §11.5).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from fastapi import FastAPI

from protocol.server_quirks import Quirks, UnknownQuirkError
from server.errors import ApiError, ConfigurationError, FieldProblem, ServerError
from server.events import EventBus, EventQueue
from server.settings import Profile, RateLimits, ServerSettings
from server.state import ServerState, build_state

JOURNAL_SIZE: Final = 20_000  # events kept for polling; a scenario makes a few hundred
MAX_WAIT_S: Final = 10.0
POLL_S: Final = 0.02
KEPT_RUNS: Final = 3  # data folders of earlier resets kept for a look after a failure
RESET_SETTINGS: Final = (
    "profile",
    "access_ttl_s",
    "refresh_ttl_s",
    "heartbeat_interval_s",
    "rate_limits",
    "keep_utterance_audio",
    "chat_path",
    "quirks",
)


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    t: float
    name: str
    data: dict[str, object]

    def to_json(self) -> dict[str, object]:
        return {"seq": self.seq, "t": self.t, "name": self.name, "data": self.data}


class EventJournal:
    """The server's events, numbered from 1; follows the bus of the current state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=JOURNAL_SIZE)
        self._seq = 0
        self._queue: EventQueue | None = None

    def follow(self, bus: EventBus) -> None:
        """Read `bus` from now on (after a reset); earlier entries are forgotten."""
        with self._lock:
            if self._queue is not None:
                self._queue.close()
            self._queue = bus.subscribe()
            self._entries.clear()

    def _pull(self) -> None:
        with self._lock:
            if self._queue is None:
                return
            for event in self._queue.drain():
                self._seq += 1
                self._entries.append(JournalEntry(self._seq, event.t, event.name, event.data))

    def after(self, seq: int) -> list[JournalEntry]:
        self._pull()
        with self._lock:
            return [e for e in self._entries if e.seq > seq]

    async def wait_after(self, seq: int, wait_s: float) -> list[JournalEntry]:
        """Entries after `seq`; waits up to `wait_s` (capped) for the first one."""
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_WAIT_S)
        while True:
            entries = self.after(seq)
            if entries or time.monotonic() >= deadline:
                return entries
            await asyncio.sleep(POLL_S)

    @property
    def last_seq(self) -> int:
        self._pull()
        with self._lock:
            return self._seq


def _unsupported(member: str) -> ApiError:
    return ApiError(
        422,
        "invalid_request",
        f"settings.{member} cannot be applied; see SPEC §11.2 for the members",
        [FieldProblem(f"settings.{member}", "unsupported_value")],
    )


def _positive_int(doc: Mapping[str, object], member: str) -> int | None:
    value = doc.get(member)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _unsupported(member)
    return value


def _rate_limits(value: object, default: RateLimits) -> RateLimits:
    if value is None:
        return default
    if not isinstance(value, dict) or set(value) - {"per_device", "per_ip", "window_s"}:
        raise _unsupported("rate_limits")
    try:
        return RateLimits(
            per_device=int(value.get("per_device", default.per_device)),
            per_ip=int(value.get("per_ip", default.per_ip)),
            window_s=float(value.get("window_s", default.window_s)),
        )
    except (TypeError, ValueError):
        raise _unsupported("rate_limits") from None


def settings_from(doc: object, base: ServerSettings, *, data_dir: Path) -> ServerSettings:
    """The settings a reset asks for (SPEC §11.2) on top of the server's start settings."""
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise _unsupported("")
    unknown = sorted(set(doc) - set(RESET_SETTINGS))
    if unknown:
        raise _unsupported(unknown[0])
    profile = doc.get("profile", Profile.DEVELOPMENT.value)
    if profile not in {p.value for p in Profile}:
        raise _unsupported("profile")
    keep = doc.get("keep_utterance_audio", False)
    chat_path = doc.get("chat_path", base.chat_path)
    if not isinstance(keep, bool):
        raise _unsupported("keep_utterance_audio")
    if not isinstance(chat_path, str) or not chat_path.startswith("/"):
        raise _unsupported("chat_path")
    try:
        # The quirks the server was started with stay on: its operator asked for them.
        asked = Quirks.named(_names(doc.get("quirks", [])))
        quirks = Quirks(base.quirks.enabled | asked.enabled)
    except UnknownQuirkError:
        raise _unsupported("quirks") from None
    try:
        return replace(
            base,
            quirks=quirks,
            data_dir=data_dir,
            profile=Profile(profile),
            access_ttl_s=_positive_int(doc, "access_ttl_s") or base.access_ttl_s,
            refresh_ttl_s=_positive_int(doc, "refresh_ttl_s") or base.refresh_ttl_s,
            heartbeat_interval_s=_positive_int(doc, "heartbeat_interval_s")
            or base.heartbeat_interval_s,
            rate_limits=_rate_limits(doc.get("rate_limits"), base.rate_limits),
            keep_utterance_audio=keep,
            chat_path=chat_path,
        )
    except ConfigurationError as exc:  # quirks in production (SPEC Appendix B)
        raise ApiError(422, "invalid_request", f"settings refused: {exc}") from exc


def _names(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _unsupported("quirks")
    return value


class HarnessControl:
    """Resets of one app (SPEC §11.2) and its event journal (SPEC §11.5)."""

    def __init__(
        self,
        app: FastAPI,
        base: ServerSettings,
        token: str,
        reroute: Callable[[ServerSettings], None],
    ) -> None:
        self.app = app
        self._reroute = reroute
        self.base = base
        self.token = token
        self.journal = EventJournal()
        self._runs = 0
        self._lock = asyncio.Lock()
        # The state before the last reset: closed at the next one, so a request or a chat
        # still on it when the reset came does not find its store closed under it.
        self._retired: ServerState | None = None

    @property
    def state(self) -> ServerState:
        state: ServerState = self.app.state.teddy
        return state

    def start(self) -> None:
        self.journal.follow(self.state.events)

    async def reset(self, doc: object) -> ServerSettings:
        async with self._lock:
            self._runs += 1
            root = self.base.data_dir / "harness"
            settings = settings_from(doc, self.base, data_dir=root / f"run-{self._runs}")
            if settings.data_dir.exists():  # left by an earlier server process
                shutil.rmtree(settings.data_dir)
            old = self.state
            try:
                new = await asyncio.to_thread(build_state, settings, pipeline=old.pipeline)
            except ServerError as exc:  # e.g. keep_utterance_audio in production
                raise ApiError(422, "invalid_request", f"settings refused: {exc}") from exc
            self.app.state.teddy = new
            self._reroute(settings)  # the chat path and the quirks decide the routes
            self.journal.follow(new.events)
            for replaced in list(old.connections.by_device.values()):
                replaced.set()  # open chats close with 4001 (SPEC §6.2)
            if self._retired is not None:
                self._retired.store.close()
            self._retired = old
            self._prune(root)
            return settings

    def _prune(self, root: Path) -> None:
        runs = sorted((p for p in root.glob("run-*") if p.is_dir()), key=lambda p: int(p.name[4:]))
        for old in runs[:-KEPT_RUNS]:
            shutil.rmtree(old, ignore_errors=True)
