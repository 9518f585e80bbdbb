"""Claim and token refresh endpoints (SPEC §2, §3.2): parse, delegate, answer.

`legacy_token_refresh` is the original's token-minting path (defect 7); the app serves it
only under the quirk `legacy_token_minting` (SPEC Appendix B), otherwise it is a 404. The
quirk `legacy_websocket_url` makes the claim name the original's chat path (defect 18).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from protocol.constants import CLAIM_PATH, REFRESH_PATH
from protocol.server_quirks import LEGACY_WEBSOCKET_URL
from server.claim_service import ClaimContext
from server.errors import ApiError
from server.openapi import (
    CLAIM_REQUEST,
    CLAIM_RESPONSES,
    REFRESH_REQUEST,
    REFRESH_RESPONSES,
    request_body,
)
from server.routes.common import json_body, public_base, teddy
from server.state import ServerState

router = APIRouter(redirect_slashes=False)  # paths are exact (SPEC §1)

# The original's claim named this WebSocket path, which nothing served (defect 18).
LEGACY_WS_PATH = "/ws/esp32/connect"
# The original server's unauthenticated minting endpoint (defect 7; SPEC §3.3).
LEGACY_MINTING_PATH = "/api/v1/esp32/token/refresh"

# Tokens must never sit in a cache (SPEC §2.5).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(CLAIM_PATH, responses=CLAIM_RESPONSES, openapi_extra=request_body(CLAIM_REQUEST))
async def claim(request: Request) -> JSONResponse:
    state = teddy(request)
    body = await json_body(request)
    context = ClaimContext(
        client_ip=request.client.host if request.client else "unknown",
        websocket_url=public_base(request, scheme="ws") + _chat_path(state),
    )
    device_id = body.get("device_id") if isinstance(body, dict) else None
    try:
        result = state.claims.claim(body, context=context)
    except ApiError as exc:
        state.events.publish(
            "claim.fail", {"status": exc.status, "code": exc.code, "device_id": device_id}
        )
        raise
    state.events.publish("claim.ok", {"device_id": device_id, "child_id": result.child_profile.id})
    return JSONResponse(result.to_json(), headers=NO_STORE)


def _chat_path(state: ServerState) -> str:
    """The path of the claim's websocket_url: the one served (SPEC §2.5), or the quirk's."""
    if LEGACY_WEBSOCKET_URL in state.settings.quirks:
        return LEGACY_WS_PATH
    return state.settings.chat_path


@router.post(REFRESH_PATH, responses=REFRESH_RESPONSES, openapi_extra=request_body(REFRESH_REQUEST))
async def refresh(request: Request) -> JSONResponse:
    state = teddy(request)
    body = await json_body(request)
    try:
        result = state.claims.refresh(body)
    except ApiError as exc:
        state.events.publish("refresh.fail", {"status": exc.status, "code": exc.code})
        raise
    state.events.publish("refresh.ok", {})
    return JSONResponse(result.to_json(), headers=NO_STORE)


async def legacy_token_refresh(request: Request) -> JSONResponse:
    """Quirk legacy_token_minting: mints for the body's device_id, no proof asked."""
    state = teddy(request)
    body = await json_body(request)
    return JSONResponse(state.claims.mint_legacy_token(body), headers=NO_STORE)
