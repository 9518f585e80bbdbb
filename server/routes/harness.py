"""The harness admin API (SPEC §11): reset, provision, publish, config, faults, events, files.

Mounted by the app factory only when the server has a harness token (never in the production
profile). Every request needs `Authorization: Bearer <token>` (401 `harness_unauthorized`,
compared in constant time). The state changes themselves are `server.harness_control`'s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from protocol._fields import strict_loads
from protocol.config_doc import CONFIG_KEYS
from protocol.errors import ProvisioningError
from protocol.provision import parse_provisioning
from protocol.server_faults import CUT_DOWNLOAD, HTTP_STATUS
from server.errors import ApiError, FieldProblem, ReleaseError
from server.faults import UnknownFaultError
from server.harness_control import RESET_SETTINGS, HarnessControl
from server.provision import apply_provisioning
from server.releases import ReleaseOverrides, publish_release
from server.routes.common import json_body, teddy

BASE: Final = "/api/v1/harness"
OFFERS: Final = ("reset", "provision", "publish", "config", "faults", "events", "files")


def harness(request: Request) -> HarnessControl:
    """The app's harness control, after checking the caller's token (SPEC §11.1)."""
    control = request.app.state.harness
    assert isinstance(control, HarnessControl)
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.encode(), control.token.encode()
    ):
        raise ApiError(
            401,
            "harness_unauthorized",
            "send Authorization: Bearer <the server's harness token> (SPEC §11.1)",
        )
    return control


# Paths are exact (SPEC §1): no trailing-slash redirects here either.
router = APIRouter(prefix=BASE, dependencies=[Depends(harness)], redirect_slashes=False)


@router.get("")
async def discover(request: Request) -> dict[str, object]:
    app = request.app
    return {
        "api": 1,
        "server": f"{app.title} {app.version}",
        "offers": list(OFFERS),
        "settings": list(RESET_SETTINGS),
    }


@router.post("/reset")
async def reset(request: Request) -> dict[str, object]:
    body = await json_body(request)
    assert isinstance(body, dict)
    settings = await harness(request).reset(body.get("settings"))
    limits = settings.rate_limits
    return {
        "settings": {
            "profile": settings.profile.value,
            "access_ttl_s": settings.access_ttl_s,
            "refresh_ttl_s": settings.refresh_ttl_s,
            "heartbeat_interval_s": settings.heartbeat_interval_s,
            "rate_limits": {
                "per_device": limits.per_device,
                "per_ip": limits.per_ip,
                "window_s": limits.window_s,
            },
            "keep_utterance_audio": settings.keep_utterance_audio,
            "chat_path": settings.chat_path,
            "quirks": list(settings.quirks.names()),  # SPEC §11.2: what was applied
        }
    }


@router.post("/provision", status_code=204)
async def provision(request: Request) -> Response:
    body = await json_body(request)
    try:
        plan = parse_provisioning(body, source="request body")
    except ProvisioningError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    apply_provisioning(teddy(request).store, plan, now=time.time())
    return Response(status_code=204)


def _image_overrides(doc: object) -> ReleaseOverrides:
    if doc is None:
        return ReleaseOverrides()
    if not isinstance(doc, dict):
        raise _invalid("manifest", "must_be_object")
    names = ("version", "chip", "secure_version", "sha256", "size")
    unknown = sorted(set(doc) - set(names))
    if unknown:
        raise _invalid(f"manifest.{unknown[0]}", "unsupported_value")
    return ReleaseOverrides(**{name: doc.get(name) for name in names})


def _invalid(field: str, reason: str) -> ApiError:
    return ApiError(422, "invalid_request", f"invalid: {field}", [FieldProblem(field, reason)])


@router.post("/releases", status_code=201)
async def releases(request: Request) -> JSONResponse:
    body = await json_body(request)  # its larger limit: server.body_limit.BODY_LIMITS
    assert isinstance(body, dict)
    try:
        image = base64.b64decode(str(body.get("image_b64", "")), validate=True)
    except binascii.Error:
        raise _invalid("image_b64", "unsupported_value") from None
    state = teddy(request)
    try:
        release = publish_release(
            store=state.store,
            data_dir=state.settings.data_dir,
            image=image,
            now=time.time(),
            mandatory=bool(body.get("mandatory", False)),
            notes=str(body.get("notes", "")),
            allow_invalid=bool(body.get("allow_invalid", False)),
            overrides=_image_overrides(body.get("manifest")),
        )
    except ReleaseError as exc:
        raise ApiError(422, "invalid_request", f"image refused: {exc}") from exc
    summary = {
        "version": release.version,
        "chip": release.chip,
        "sha256": release.sha256,
        "size": release.size,
    }
    return JSONResponse(summary, status_code=201)


@router.put("/config/{key}", status_code=204)
async def config(key: str, request: Request) -> Response:
    if key not in CONFIG_KEYS:
        raise _invalid(key, "unsupported_value")
    raw = await request.body()
    try:
        value = strict_loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "malformed_json", f"body is not a JSON value ({exc})") from exc
    teddy(request).store.set_config(key, value)
    return Response(status_code=204)


@router.post("/faults", status_code=204)
async def faults(request: Request) -> Response:
    body = await json_body(request)
    assert isinstance(body, dict)
    plan = teddy(request).faults
    kind, count = body.get("kind"), body.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise _invalid("count", "out_of_range")
    if kind == HTTP_STATUS.name:
        path, status = body.get("path"), body.get("status")
        if not isinstance(path, str) or not isinstance(status, int):
            raise _invalid("path" if not isinstance(path, str) else "status", "required")
        plan.http_status(path, status, count=count)
    elif kind == CUT_DOWNLOAD.name:
        after = body.get("after_bytes")
        if not isinstance(after, int) or after < 0:
            raise _invalid("after_bytes", "required")
        plan.cut_download(after, count=count)
    else:
        try:
            plan.inject(str(kind), count=count)
        except UnknownFaultError:
            raise _invalid("kind", "unsupported_value") from None
    return Response(status_code=204)


@router.get("/events")
async def events(request: Request, after: int = 0, wait: float = 0.0) -> dict[str, object]:
    journal = harness(request).journal
    entries = await journal.wait_after(after, wait)
    return {
        "events": [e.to_json() for e in entries],
        "next": entries[-1].seq if entries else max(after, 0),
    }


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@router.get("/files")
async def files(request: Request) -> dict[str, object]:
    root = teddy(request).settings.data_dir
    listed = []
    for path in _files(root):
        data = path.read_bytes()
        listed.append(
            {
                "path": path.relative_to(root).as_posix(),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return {"files": listed}


@router.get("/files/{path:path}")
async def file(path: str, request: Request) -> FileResponse:
    root = teddy(request).settings.data_dir
    wanted = {p.relative_to(root).as_posix(): p for p in _files(root)}
    if path not in wanted:  # only listed files: no `..` or absolute paths reach the disk
        raise ApiError(404, "not_found", f"no file {path!r} in the server's data; see /files")
    return FileResponse(wanted[path])
