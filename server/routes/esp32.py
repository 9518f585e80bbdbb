"""Config and firmware-manifest endpoints with full ETag semantics (SPEC §4, §5.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from protocol.constants import (
    CHIP_IDS,
    CONFIG_CACHE_CONTROL,
    CONFIG_PATH,
    FIRMWARE_PATH,
    MANIFEST_CACHE_CONTROL,
)
from server.config_doc import config_body
from server.errors import ApiError, FieldProblem
from server.openapi import CONFIG_RESPONSES, MANIFEST_RESPONSES
from server.releases import current_release, manifest_for
from server.routes.common import conditional_json, public_base, teddy

router = APIRouter(redirect_slashes=False)  # paths are exact (SPEC §1)

ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


@router.get(CONFIG_PATH, responses=CONFIG_RESPONSES)
def get_config(request: Request) -> Response:
    state = teddy(request)
    settings = state.settings
    host = settings.public_host or request.url.hostname or "localhost"
    port = settings.public_port or request.url.port or (443 if settings.tls else 80)
    body = config_body(settings=settings, store=state.store, host=host, port=port)
    response = conditional_json(request, body, cache_control=CONFIG_CACHE_CONTROL)
    state.events.publish("config.served", {"status": response.status_code})
    return response


@router.get(FIRMWARE_PATH, responses=MANIFEST_RESPONSES)
def get_manifest(
    request: Request,
    device_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    current_version: Annotated[str | None, Query(max_length=32)] = None,
    chip: Annotated[str, Query(json_schema_extra={"enum": sorted(CHIP_IDS)})] = "esp32",
) -> Response:
    # device_id and current_version are informative today (logged by the access log);
    # staged roll-outs will key on them.
    del device_id, current_version
    if chip not in CHIP_IDS:
        valid = ", ".join(sorted(CHIP_IDS))
        problem = FieldProblem("chip", f"unknown chip {chip!r}; one of {valid}")
        raise ApiError(422, "invalid_request", f"unknown chip {chip!r}", [problem])
    state = teddy(request)
    release = current_release(state.store, chip=chip)
    if release is None:
        state.events.publish("manifest.served", {"status": 404, "version": None})
        raise ApiError(404, "no_release", f"no firmware release published for {chip}")
    body = manifest_for(release, base_url=public_base(request)).to_json()
    response = conditional_json(request, body, cache_control=MANIFEST_CACHE_CONTROL)
    state.events.publish(
        "manifest.served", {"status": response.status_code, "version": release.version}
    )
    return response
