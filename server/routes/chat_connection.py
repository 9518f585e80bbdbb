"""One accepted chat WebSocket: the receive loop, the sender, faults and events (SPEC §6).

Frames go to the sans-I/O :class:`ChatSession`; what it returns is sent, or handed to the
connection's :class:`SpeechWorker`. Injected faults (``server.faults``) arrive through the
connection's event loop and write exactly the garbage a scenario asked for, or arm the
session (``cut_reply``, ``drop_first_chunk``; their ``fault.injected`` is published when they
fire). The session and the worker get the server's legacy quirks (SPEC Appendix B) that
concern them.
A timer task discards an utterance past its time limits (SPEC §6.6): the session keeps
the deadlines (time passed in, monotonic), this adapter only wakes it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import WebSocket, WebSocketDisconnect

from protocol.constants import CloseCode
from protocol.server_faults import ARMED_CHAT_FAULTS
from protocol.server_quirks import CHILD_ID_AS_UUID
from server.chat_session import Action, ChatSession, Send, UtteranceLimits
from server.faults import OVERSIZE_FRAME_BYTES
from server.routes.chat_worker import SpeechWorker
from server.speech.interfaces import ChildContext
from server.state import ServerState

ABNORMAL_CLOSE = 1006  # no close frame: what the device sees after a drop


@dataclass(frozen=True)
class Peer:
    device_key: str
    child: ChildContext
    session_id: str
    child_key: str = ""  # the canonical child_id of the handshake


# Quirk child_id_as_uuid (defect 14): what the original answered when UUID(child_id) failed.
CANNED_ANSWER = "I'm having a little trouble thinking right now. Can we talk again later?"


def canned_answer(state: ServerState, peer: Peer) -> str | None:
    """The fallback every answer becomes under the quirk for a non-UUID child, else None."""
    if CHILD_ID_AS_UUID not in state.settings.quirks:
        return None
    try:
        uuid.UUID(peer.child_key)
    except ValueError:
        return CANNED_ANSWER
    return None


def iso_now(state: ServerState) -> str:
    return datetime.fromtimestamp(state.settings.clock(), UTC).isoformat(timespec="milliseconds")


class ChatConnection:
    def __init__(
        self, *, state: ServerState, websocket: WebSocket, peer: Peer, replaced: asyncio.Event
    ) -> None:
        self._state = state
        self._ws = websocket
        self._peer = peer
        self._replaced = replaced
        self._send_lock = asyncio.Lock()
        self._session = ChatSession(
            session_id=peer.session_id,
            child_name=peer.child.name,
            new_id=lambda: uuid.uuid4().hex,
            quirks=state.settings.quirks,
            limits=UtteranceLimits(
                max_s=state.settings.utterance_max_s, silence_s=state.settings.utterance_silence_s
            ),
            fault_fired=self._fault_fired,
        )
        assert state.speech_capacity is not None  # build_state always makes one
        self._worker = SpeechWorker(
            capacity=state.speech_capacity,
            device=peer.device_key,
            hold_s=state.settings.utterance_max_s,
            pipeline=state.pipeline,
            session=self._session,
            child=peer.child,
            send=self.send,
            now=self.now,
            publish=self._publish,
            keep=self._keep_audio if state.audio_keeper is not None else None,
            canned=canned_answer(state, peer),
            received=state.received_audio,
        )
        self.close_code: int = CloseCode.NORMAL

    def _keep_audio(self, audio_session_id: str, pcm: bytes) -> None:
        assert self._state.audio_keeper is not None  # offered only then (__init__)
        self._state.audio_keeper.keep(self._peer.device_key, audio_session_id, pcm)

    def now(self) -> str:
        return iso_now(self._state)

    def _publish(self, name: str, data: dict[str, object]) -> None:
        self._state.events.publish(name, {"device_id": self._peer.device_key, **data})

    async def send(self, frames: list[Send]) -> None:
        async with self._send_lock:
            for frame in frames:
                await self._ws.send_text(frame.text)
                if frame.error_code is not None:
                    self._publish("chat.error", {"code": frame.error_code})

    async def serve(self) -> None:
        worker_task = asyncio.create_task(self._worker.run())
        watcher = asyncio.create_task(self._close_when_replaced())
        timer = asyncio.create_task(self._expire_utterances())
        stop_faults = self._state.faults.listen(self._on_fault)
        try:
            await self._dispatch(self._session.connected(timestamp=self.now()))
            await self._receive_loop()
        except (WebSocketDisconnect, RuntimeError):
            self.close_code = (
                ABNORMAL_CLOSE if self.close_code == CloseCode.NORMAL else self.close_code
            )
        finally:
            stop_faults()
            watcher.cancel()
            timer.cancel()
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
            self._worker.close()

    async def _receive_loop(self) -> None:
        idle_s = 3 * self._state.settings.heartbeat_interval_s
        while True:
            try:
                message = await asyncio.wait_for(self._ws.receive(), timeout=idle_s)
            except TimeoutError:
                await self._close(CloseCode.IDLE_TIMEOUT, "idle_timeout")
                return
            if message["type"] == "websocket.disconnect":
                if self.close_code == CloseCode.NORMAL:  # not already set by a close we made
                    self.close_code = int(message.get("code") or CloseCode.NORMAL)
                return
            ts = self.now()
            if message.get("text") is not None:
                actions = self._session.receive_text(
                    message["text"], timestamp=ts, now=time.monotonic()
                )
            else:
                actions = self._session.receive_bytes(message.get("bytes") or b"", timestamp=ts)
            await self._dispatch(actions)

    async def _dispatch(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                await self.send([action])
            else:
                self._worker.submit(action)

    async def _expire_utterances(self) -> None:
        """Wake the session at its next utterance deadline (SPEC §6.6 time limits)."""
        while True:
            deadline = self._session.next_deadline()
            now = time.monotonic()
            if deadline is None or deadline > now:
                # Re-read at least every 0.25 s: a frame may open or move the deadline.
                wait = 0.25 if deadline is None else min(0.25, deadline - now)
                await asyncio.sleep(wait)
                continue
            await self._dispatch(self._session.expire(now=now, timestamp=self.now()))

    async def _close(self, code: int, reason: str) -> None:
        self.close_code = code
        with contextlib.suppress(Exception):
            await self._ws.close(code=code, reason=reason)

    async def _close_when_replaced(self) -> None:
        await self._replaced.wait()
        await self._close(CloseCode.SESSION_REPLACED, "session_replaced")

    # -- fault injection (server.faults) ----------------------------------------------------
    def _on_fault(self, kind: str) -> None:
        if kind in ARMED_CHAT_FAULTS:  # fires on the next reply/utterance (_fault_fired)
            self._session.arm(kind)
            return
        asyncio.get_running_loop().create_task(self._apply_fault(kind))

    def _fault_fired(self, kind: str, audio_session_id: str) -> None:
        self._publish("fault.injected", {"kind": kind, "audio_session_id": audio_session_id})

    async def _apply_fault(self, kind: str) -> None:
        self._publish("fault.injected", {"kind": kind})
        async with self._send_lock:
            with contextlib.suppress(Exception):
                if kind == "invalid_json":
                    await self._ws.send_text('{"type": "text_response", "text": ')
                elif kind == "unknown_type":
                    await self._ws.send_text(
                        json.dumps({"type": "surprise", "timestamp": self.now()})
                    )
                elif kind == "oversize_frame":
                    padding = "x" * OVERSIZE_FRAME_BYTES
                    frame = {"type": "text_response", "text": padding, "timestamp": self.now()}
                    await self._ws.send_text(json.dumps(frame))
                elif kind == "binary_frame":
                    await self._ws.send_bytes(b"\x00\xffteddy")
                elif kind == "drop_connection":
                    self._drop()

    def _drop(self) -> None:
        """Abort the TCP connection without a close frame (the device sees 1006)."""
        self.close_code = ABNORMAL_CLOSE
        transport = _find_transport(getattr(self._ws, "_send", None), depth=4)
        if transport is not None:
            transport.abort()


def _find_transport(send: object, *, depth: int) -> asyncio.Transport | None:
    """The TCP transport behind an ASGI ``send``: uvicorn's protocol object owns the bound
    ``send`` method, wrapped by Starlette in closures; follow them a few levels deep."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.Transport):
        return transport
    if depth == 0:
        return None
    for cell in getattr(send, "__closure__", None) or ():
        contents = cell.cell_contents
        if callable(contents):
            found = _find_transport(contents, depth=depth - 1)
            if found is not None:
                return found
    return None
