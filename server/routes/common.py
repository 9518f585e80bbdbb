"""Helpers every route shares: the server state, JSON bodies, public URLs, ETags."""

from __future__ import annotations

import json

from fastapi import Request, Response

# strict_loads refuses duplicate keys and NaN, like every parser of SPEC §1.1.
from protocol._fields import strict_loads
from protocol.etag import compute_etag, if_none_match_matches
from protocol.server_quirks import ETAG_STRING_COMPARE
from server.body_limit import body_limit, too_large
from server.errors import ApiError
from server.state import ServerState


def teddy(request: Request) -> ServerState:
    state = request.app.state.teddy
    assert isinstance(state, ServerState)
    return state


async def json_body(request: Request) -> object:
    """The request body as JSON; 413/400 with SPEC §1.2 bodies when it is not.

    ``server.body_limit`` has refused an oversized body while it streamed; the length check
    here is a second guard (an app mounted without that middleware).
    """
    raw = await request.body()
    limit = body_limit(request.url.path)
    if len(raw) > limit:
        raise too_large(limit)
    try:
        body = strict_loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            400, "malformed_json", f"body is not JSON ({exc}); send a JSON object"
        ) from exc
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "body must be a JSON object")
    return body


def public_base(request: Request, *, scheme: str = "http") -> str:
    """``scheme://host[:port]`` as the device reached us (settings override the Host header)."""
    settings = teddy(request).settings
    host = settings.public_host or request.url.hostname or "localhost"
    port = settings.public_port or request.url.port
    secure = settings.tls or request.headers.get("x-forwarded-proto") == "https"
    if secure:
        scheme = {"http": "https", "ws": "wss"}[scheme]
    default_port = 443 if secure else 80
    if port is None or port == default_port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def conditional_json(request: Request, body: dict[str, object], *, cache_control: str) -> Response:
    """200 with a strong ETag, or 304 that still carries ETag and Cache-Control (SPEC §4.2)."""
    etag = compute_etag(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if_none_match = request.headers.get("if-none-match")
    if ETAG_STRING_COMPARE in teddy(request).settings.quirks:
        # Defect 17: one string compare, and a bare 304 without ETag or Cache-Control.
        if if_none_match == etag:
            return Response(status_code=304)
    elif if_none_match_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    content = json.dumps(body, separators=(",", ":")).encode()
    return Response(content, media_type="application/json", headers=headers)
