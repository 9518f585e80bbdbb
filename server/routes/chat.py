"""WebSocket chat adapter: handshake checks, then the sans-I/O session on a socket (SPEC §6).

The handshake is refused *before* accept (HTTP 403 with a SPEC §1.2 body naming the
reason, or close 1008 where the ASGI server lacks the denial-response extension) when
the bearer token or the query is not acceptable. After accept, frames go to
:class:`server.chat_session.ChatSession`; its work orders run on one worker task per
connection so speech decoding never blocks heartbeats. Legacy-server quirks (SPEC Appendix
B) change the handshake where the original did (`chat_without_jwt`, `dashboard_age_limit`);
`legacy_connect` is the crashing handler of `legacy_ws_path_crash`.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import WebSocket
from fastapi.responses import JSONResponse

from protocol.claim import canonical_id
from protocol.constants import MAX_CHILD_AGE, MIN_CHILD_AGE, CloseCode
from protocol.error_body import ErrorBody
from protocol.server_quirks import CHAT_WITHOUT_JWT, DASHBOARD_AGE_LIMIT
from server.routes import chat_log
from server.routes.chat_connection import ChatConnection, Peer
from server.speech.interfaces import ChildContext
from server.state import ServerState
from server.tokens import TokenClaims, TokenError, TokenType

log = logging.getLogger("teddy.server.chat")

_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_CHILD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME = re.compile(r"[A-Za-z0-9 '.-]{1,30}")
DASHBOARD_MAX_CHILD_AGE = 18  # the original parent dashboard's upper age (defect 23)


class HandshakeRefused(Exception):  # noqa: N818 - a refusal, not a failure of ours
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_handshake(state: ServerState, websocket: WebSocket) -> Peer:
    """Every refusal of SPEC §6.1, in its documented order."""
    quirks = state.settings.quirks
    # Quirk chat_without_jwt (defect 8): no version of the original checked a JWT here.
    claims = None if CHAT_WITHOUT_JWT in quirks else _check_token(state, websocket)
    query = websocket.query_params
    device_id, child_id = query.get("device_id", ""), query.get("child_id", "")
    name = query.get("child_name") or "friend"
    if (
        not _ID.fullmatch(device_id)
        or not _CHILD_ID.fullmatch(child_id)
        or not _NAME.fullmatch(name)
    ):
        raise HandshakeRefused(
            "invalid_query", "device_id, child_id and child_name must match SPEC §6.1"
        )
    # Quirk dashboard_age_limit (defect 23): the original dashboard's 3..18.
    max_age = DASHBOARD_MAX_CHILD_AGE if DASHBOARD_AGE_LIMIT in quirks else MAX_CHILD_AGE
    age_text = query.get("child_age", "")
    if not re.fullmatch(r"\d{1,3}", age_text) or not MIN_CHILD_AGE <= int(age_text) <= max_age:
        raise HandshakeRefused(
            "age_out_of_range",
            f"child_age must be an integer {MIN_CHILD_AGE}..{max_age} (COPPA); got {age_text!r}",
        )
    # The speech pipeline answers ages 3..13 only: an older child let in by the quirk is
    # answered as 13, so the chat works as the original's did and only the gate is wrong.
    child = ChildContext(name=name, age=min(int(age_text), MAX_CHILD_AGE))
    if claims is None:
        return Peer(canonical_id(device_id), child, str(uuid.uuid4()), canonical_id(child_id))
    if canonical_id(device_id) != claims.device_id or canonical_id(child_id) != claims.child_id:
        raise HandshakeRefused("token_mismatch", "the token was issued to another device or child")
    return Peer(claims.device_id, child, claims.session_id, claims.child_id)


def _check_token(state: ServerState, websocket: WebSocket) -> TokenClaims:
    """SPEC §6.1 refusals 1-4: a Bearer access token, valid, unexpired, not revoked."""
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
    return claims


async def refuse(websocket: WebSocket, refusal: HandshakeRefused) -> None:
    body = ErrorBody(refusal.reason, str(refusal), str(uuid.uuid4())).to_json()
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, status_code=403))
    else:
        await websocket.close(code=CloseCode.POLICY, reason=refusal.reason)


async def legacy_connect(websocket: WebSocket) -> None:
    """Quirk legacy_ws_path_crash (defect 2): the original's `/ws/esp32/connect` handler
    failed on its first line, before accepting; the ASGI server answers the upgrade 500."""
    del websocket
    raise RuntimeError("the legacy /ws/esp32/connect handler crashed (quirk, defect 2)")


async def chat(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.teddy
    try:
        peer = check_handshake(state, websocket)
    except HandshakeRefused as refusal:
        log.info("chat refused: %s (%s)", refusal.reason, refusal)
        device_id = websocket.query_params.get("device_id")
        state.events.publish("ws.refused", {"reason": refusal.reason, "device_id": device_id})
        await refuse(websocket, refusal)
        return
    chat_log.install()  # a non-UTF-8 frame from now on is an info line (server.routes.chat_log)
    await websocket.accept()
    replaced = state.connections.register(peer.device_key)
    state.events.publish("ws.open", {"device_id": peer.device_key})
    connection = ChatConnection(state=state, websocket=websocket, peer=peer, replaced=replaced)
    try:
        await connection.serve()
    finally:
        state.connections.unregister(peer.device_key, replaced)
        state.events.publish(
            "ws.close", {"device_id": peer.device_key, "code": connection.close_code}
        )
