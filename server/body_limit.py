"""Request body limits, enforced while the body streams in (SPEC §1.1, issue 13).

This module owns the one table of body limits: every path gets ``MAX_REQUEST_BODY_BYTES``
except the few declared in ``BODY_LIMITS`` (the harness release upload carries a base64
image). :class:`BodyLimit` is a pure ASGI middleware, outermost in the app, so no route,
middleware or framework code ever holds more than the limit:

- a ``Content-Length`` over the limit is refused with 413 ``payload_too_large`` before one
  byte of the body is read;
- a chunked (or otherwise unannounced) body is counted as it arrives and refused as soon as
  it passes the limit; the rest is never read;
- a refused request's answer says ``Connection: close`` and the server then closes the
  connection instead of draining a body the client may keep sending (200 MiB in the probe).

``server.routes.common.json_body`` checks the same limit again as a second guard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from protocol.constants import MAX_REQUEST_BODY_BYTES
from server.errors import ApiError

MAX_IMAGE_BODY: Final = 48 * 1024 * 1024  # base64 of the largest app partition, with room

# The only paths with a larger body than MAX_REQUEST_BODY_BYTES (SPEC §1.1, §11.3).
BODY_LIMITS: Final[dict[str, int]] = {"/api/v1/harness/releases": MAX_IMAGE_BODY}

# More digits than any limit has: the Content-Length is over it whatever the digits are,
# so a 5000-digit header never reaches int() (bounded numbers, issue 13).
_MAX_LENGTH_DIGITS: Final = len(str(max(MAX_REQUEST_BODY_BYTES, *BODY_LIMITS.values())))

log = logging.getLogger("teddy.server")

REFUSED: Final = "body_refused"  # request.state flag: the 413 is already sent

Refuse = Callable[[Request, ApiError], Response]


def body_limit(path: str) -> int:
    """The most bytes a request body to ``path`` may have."""
    return BODY_LIMITS.get(path, MAX_REQUEST_BODY_BYTES)


def too_large(limit: int) -> ApiError:
    return ApiError(
        413, "payload_too_large", f"request body over {limit} bytes (SPEC §1.1); send less"
    )


def declared_over(content_length: str, limit: int) -> bool:
    """Whether a Content-Length value is over ``limit`` (malformed ones are the server's)."""
    digits = content_length.strip()
    if not digits.isascii() or not digits.isdigit():
        return False  # uvicorn refuses a malformed Content-Length before the app sees it
    significant = digits.lstrip("0")
    return len(significant) > _MAX_LENGTH_DIGITS or int(significant or "0") > limit


class BodyLimit:
    """Pure ASGI middleware: refuse bodies over the path's limit without reading them."""

    def __init__(self, app: ASGIApp, refuse: Refuse) -> None:
        self.app = app
        self.refuse = refuse  # the app's SPEC §1.2 error body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        length = Request(scope).headers.get("content-length")
        if length is not None and declared_over(length, limit):
            await self._refuse(scope, receive, send, limit)
            return
        guard = _Guard(self, scope, receive, send, limit)
        await self.app(scope, guard.receive, guard.send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Answer 413 and have the server close the connection (the rest is never read)."""
        log.info("refused a body over %d bytes on %s (SPEC §1.1)", limit, scope["path"])
        scope.setdefault("state", {})[REFUSED] = True
        response = self.refuse(Request(scope), too_large(limit))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


class _Guard:
    """One request's receive and send: body bytes are counted as the app reads them.

    Past the limit the 413 goes out at once and the app is told the client has gone
    (``http.disconnect``, so starlette raises ClientDisconnect in ``request.body()``);
    whatever the app then tries to send is dropped.
    """

    def __init__(
        self, owner: BodyLimit, scope: Scope, receive: Receive, send: Send, limit: int
    ) -> None:
        self.owner, self.scope, self._receive, self._send = owner, scope, receive, send
        self.limit = limit
        self.seen = 0
        self.started = False  # the app began its answer
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.refused = True
                if not self.started:
                    await self.owner._refuse(self.scope, self._receive, self._send, self.limit)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 has been sent (or the answer already under way is cut short)
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
