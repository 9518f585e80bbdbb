"""FastAPI app factory of the reference server: wiring, error bodies, correlation ids.

``create_app`` builds one isolated server from :class:`ServerSettings`; routes live in
``server.routes``. Every error leaves through one handler so it has the SPEC §1.2 body.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute

from protocol.server_quirks import DOUBLE_PREFIX_ROUTES, LEGACY_TOKEN_MINTING, LEGACY_WS_PATH_CRASH
from server.body_limit import REFUSED, BodyLimit
from server.errors import ApiError, ConfigurationError, FieldProblem
from server.faults import ASGI_ERROR_LOGGER, QUIET_CUTS, CutDownloads, is_download_cut
from server.routes import chat, esp32, files, pairing
from server.settings import ServerSettings
from server.state import ServerState, build_state

log = logging.getLogger("teddy.server")

CORRELATION_HEADER = "X-Correlation-Id"
MIN_HARNESS_TOKEN = 16
DOUBLED_PREFIX = "/api/v1/esp32"  # prepended once more to the esp32 paths (defect 1)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def create_app(settings: ServerSettings, *, state: ServerState | None = None) -> FastAPI:
    """A ready-to-serve app; pass ``state`` to share a pre-built one (tests, the harness)."""
    if state is None:
        from server.engines import default_pipeline

        state = build_state(
            settings, pipeline=default_pipeline(speech_memory_mb=settings.speech_memory_mb)
        )
    # Paths are exact (SPEC §1): a trailing slash is 404 `not_found`, never a 307 redirect.
    app = FastAPI(
        title="teddy reference server",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.teddy = state
    routes = _protocol_routes(app, state.settings)

    def reroute(new: ServerSettings) -> None:
        """After a harness reset (SPEC §11.2): the routes its settings and quirks ask for."""
        nonlocal routes
        app.router.routes[:] = [r for r in app.router.routes if r not in routes]
        routes = _protocol_routes(app, new)

    if settings.harness_token is not None:
        _mount_harness(app, settings, settings.harness_token, reroute)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    logging.getLogger(ASGI_ERROR_LOGGER).addFilter(QUIET_CUTS)  # idempotent
    app.add_exception_handler(Exception, _internal_error)
    app.middleware("http")(_correlation)
    # Outermost: bodies over their limit are refused while streaming (SPEC §1.1).
    app.add_middleware(BodyLimit, refuse=error_response)
    app.add_middleware(CutDownloads)  # fault cut_download (server.faults)

    @app.get("/health")
    def health() -> dict[str, object]:
        now: ServerState = app.state.teddy  # a harness reset (SPEC §11.2) swaps it
        return {
            "status": "ok",
            "profile": now.settings.profile.value,
            "sessions": len(now.connections),
        }

    return app


def _mount_harness(
    app: FastAPI, settings: ServerSettings, token: str, reroute: Callable[[ServerSettings], None]
) -> None:
    """The harness admin API (SPEC §11): development profile only, with a real token."""
    from server.harness_control import HarnessControl
    from server.routes import harness

    if not settings.development:
        raise ConfigurationError(
            "the harness admin API lets anyone with its token reset the server: it is refused "
            "in the production profile (SPEC §11); drop --harness-token or use development"
        )
    if len(token) < MIN_HARNESS_TOKEN:
        raise ConfigurationError(
            f"the harness token must be at least {MIN_HARNESS_TOKEN} characters (SPEC §11.1)"
        )
    control = HarnessControl(app, settings, token, reroute)
    app.state.harness = control
    app.include_router(harness.router)
    control.start()


def _protocol_routes(app: FastAPI, settings: ServerSettings) -> list[BaseRoute]:
    """Add the SPEC §1 endpoints for `settings`; the routes added."""
    before = {id(route) for route in app.router.routes}
    _add_routes(app, settings)
    return [route for route in app.router.routes if id(route) not in before]


def _add_routes(app: FastAPI, settings: ServerSettings) -> None:
    """The SPEC §1 endpoints; legacy quirks (SPEC Appendix B) move or add some."""
    quirks = settings.quirks
    # Quirk double_prefix_routes (defect 1): the original mounted its router's prefix twice.
    prefix = DOUBLED_PREFIX if DOUBLE_PREFIX_ROUTES in quirks else ""
    app.include_router(pairing.router)
    app.include_router(esp32.router, prefix=prefix)
    app.include_router(files.router)
    if LEGACY_TOKEN_MINTING in quirks:  # defect 7
        app.add_api_route(
            pairing.LEGACY_MINTING_PATH, pairing.legacy_token_refresh, methods=["POST"]
        )
    # The chat path is a setting (SPEC §2.5): only it is served, so a device that dials a
    # compiled-in path instead of the claim's websocket_url is refused.
    app.add_api_websocket_route(prefix + settings.chat_path, chat.chat)
    if LEGACY_WS_PATH_CRASH in quirks:  # defect 2
        app.add_api_websocket_route(pairing.LEGACY_WS_PATH, chat.legacy_connect)


async def _correlation(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    # A caller's id is kept only if it is a UUID, so logs cannot be fed arbitrary text.
    given = request.headers.get(CORRELATION_HEADER, "")
    request.state.correlation_id = given if _UUID.fullmatch(given) else str(uuid.uuid4())
    injected = request.app.state.teddy.faults.take_http(request.url.path)
    if injected is not None:
        # Fault injection (server.faults): answer as an overloaded server would.
        retry = {"Retry-After": "1"} if injected in (429, 503) else {}
        fault = ApiError(
            injected, "injected_fault", "fault injected by the test harness", headers=retry
        )
        response: Response = error_response(request, fault)
    else:
        response = await call_next(request)
    response.headers[CORRELATION_HEADER] = request.state.correlation_id
    return response


def _correlation_id(request: Request) -> str:
    value = getattr(request.state, "correlation_id", None)
    return value if isinstance(value, str) else str(uuid.uuid4())


def error_response(request: Request, error: ApiError) -> JSONResponse:
    cid = _correlation_id(request)
    headers = {**error.headers, CORRELATION_HEADER: cid}
    return JSONResponse(error.body(correlation_id=cid), status_code=error.status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        FieldProblem(
            ".".join(str(p) for p in err.get("loc", ())[1:]) or "request", str(err.get("msg"))
        )
        for err in exc.errors()
    ]
    names = ", ".join(p.field for p in problems)
    return error_response(request, ApiError(422, "invalid_request", f"invalid: {names}", problems))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error = ApiError(404, "not_found", f"no such endpoint: {request.url.path}; see SPEC")
    elif exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        error = ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; use {allow}",
            headers={"Allow": allow},
        )
    else:
        error = ApiError(exc.status_code, "http_error", str(exc.detail))
    return error_response(request, error)


async def _client_gone(request: Request, exc: Exception) -> Response:
    """A client that hung up mid-body is an expected mistake: one info line, no traceback."""
    if not getattr(request.state, REFUSED, False):  # a refused body has had its own line
        log.info("client hung up before its body ended on %s", request.url.path)
    return Response(status_code=400)  # nobody is listening; uvicorn drops it


async def _internal_error(request: Request, exc: Exception) -> Response:
    if is_download_cut(exc):  # fault cut_download (server.faults): expected, one info line
        log.info("download cut by fault injection on %s", request.url.path)
        return Response(status_code=500)  # the answer has begun: the server drops the link
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(
        request, ApiError(500, "internal_error", "internal error; see server log")
    )
