"""WebSocket chat adapter: handshake checks, then the sans-I/O session on a socket (SPEC §6).

The handshake is refused *before* accept (HTTP 403 with a SPEC §1.2 body naming the
reason, or close 1008 where the ASGI server lacks the denial-response extension) when
the bearer token or the query is not acceptable. After accept, frames go to
:class:`server.chat_session.ChatSession`; its work orders run on one worker task per
connection so speech decoding never blocks heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from protocol.claim import canonical_id
from protocol.constants import CHAT_PATH, MAX_CHILD_AGE, MIN_CHILD_AGE, CloseCode
from server.chat_session import Action, ChatSession, Send, UtteranceEnded
from server.routes.chat_worker import SendFn, SpeechWorker
from server.speech.interfaces import ChildContext
from server.state import ServerState
from server.tokens import TokenError, TokenType

log = logging.getLogger("teddy.server.chat")
router = APIRouter()

_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_CHILD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NAME = re.compile(r"^[A-Za-z0-9 '.-]{1,30}$")


class HandshakeRefused(Exception):  # noqa: N818 - a refusal, not a failure of ours
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Peer:
    device_key: str
    child: ChildContext
    session_id: str


def iso_now(state: ServerState) -> str:
    return datetime.fromtimestamp(state.settings.clock(), UTC).isoformat(timespec="milliseconds")


def check_handshake(state: ServerState, websocket: WebSocket) -> Peer:
    """Every refusal of SPEC §6.1, in its documented order."""
    auth = websocket.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HandshakeRefused("missing_token", "send Authorization: Bearer <access_token>")
    try:
        claims = state.tokens.verify(
            token.strip(), expected=TokenType.ACCESS, now=state.settings.clock()
        )
    except TokenError as exc:
        raise HandshakeRefused(exc.reason, str(exc)) from exc
    if state.store.session_revoked(claims.session_id):
        raise HandshakeRefused("session_revoked", "this session was revoked; claim again")
    query = websocket.query_params
    device_id, child_id = query.get("device_id", ""), query.get("child_id", "")
    name = query.get("child_name") or "friend"
    if not _ID.match(device_id) or not _CHILD_ID.match(child_id) or not _NAME.match(name):
        raise HandshakeRefused(
            "invalid_query", "device_id, child_id and child_name must match SPEC §6.1"
        )
    age_text = query.get("child_age", "")
    if (
        not re.fullmatch(r"\d{1,3}", age_text)
        or not MIN_CHILD_AGE <= int(age_text) <= MAX_CHILD_AGE
    ):
        raise HandshakeRefused(
            "age_out_of_range",
            f"child_age must be an integer {MIN_CHILD_AGE}..{MAX_CHILD_AGE} (COPPA); "
            f"got {age_text!r}",
        )
    if canonical_id(device_id) != claims.device_id or canonical_id(child_id) != claims.child_id:
        raise HandshakeRefused("token_mismatch", "the token was issued to another device or child")
    return Peer(claims.device_id, ChildContext(name=name, age=int(age_text)), claims.session_id)


async def refuse(websocket: WebSocket, refusal: HandshakeRefused) -> None:
    body = {
        "error": {
            "code": refusal.reason,
            "message": str(refusal),
            "correlation_id": str(uuid.uuid4()),
        }
    }
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, status_code=403))
    else:
        await websocket.close(code=CloseCode.POLICY, reason=refusal.reason)


@router.websocket(CHAT_PATH)
async def chat(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.teddy
    try:
        peer = check_handshake(state, websocket)
    except HandshakeRefused as refusal:
        log.info("chat refused: %s (%s)", refusal.reason, refusal)
        await refuse(websocket, refusal)
        return
    await websocket.accept()
    replaced = state.connections.register(peer.device_key)
    try:
        await _serve(state, websocket, peer, replaced)
    finally:
        state.connections.unregister(peer.device_key, replaced)


async def _serve(
    state: ServerState, websocket: WebSocket, peer: Peer, replaced: asyncio.Event
) -> None:
    session = ChatSession(
        session_id=peer.session_id, child_name=peer.child.name, new_id=lambda: uuid.uuid4().hex
    )
    send_lock = asyncio.Lock()

    async def send(frames: list[Send]) -> None:
        async with send_lock:
            for frame in frames:
                await websocket.send_text(frame.text)

    worker = SpeechWorker(
        pipeline=state.pipeline,
        session=session,
        child=peer.child,
        send=send,
        now=lambda: iso_now(state),
    )
    worker_task = asyncio.create_task(worker.run())
    watcher = asyncio.create_task(_close_when_replaced(websocket, replaced))
    idle_s = 3 * state.settings.heartbeat_interval_s
    try:
        await _dispatch(session.connected(timestamp=iso_now(state)), send, worker)
        while True:
            try:
                message = await asyncio.wait_for(websocket.receive(), timeout=idle_s)
            except TimeoutError:
                await websocket.close(code=CloseCode.IDLE_TIMEOUT, reason="idle_timeout")
                return
            if message["type"] == "websocket.disconnect":
                return
            ts = iso_now(state)
            if message.get("text") is not None:
                actions = session.receive_text(message["text"], timestamp=ts)
            else:
                actions = session.receive_bytes(message.get("bytes") or b"", timestamp=ts)
            await _dispatch(actions, send, worker)
    except (WebSocketDisconnect, RuntimeError):
        return  # peer gone mid-send, or the socket was closed by the watcher
    finally:
        watcher.cancel()
        worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
        worker.close()


async def _dispatch(actions: list[Action], send: SendFn, worker: SpeechWorker) -> None:
    for action in actions:
        if isinstance(action, Send):
            await send([action])
        else:
            worker.submit(action)
            if isinstance(action, UtteranceEnded):
                log.debug(
                    "utterance %s ended (%d bytes)", action.audio_session_id, action.total_bytes
                )


async def _close_when_replaced(websocket: WebSocket, replaced: asyncio.Event) -> None:
    await replaced.wait()
    with contextlib.suppress(Exception):
        await websocket.close(code=CloseCode.SESSION_REPLACED, reason="session_replaced")
