"""Firmware image download with HTTP Range, so devices resume cut downloads (SPEC §5.2)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from protocol.constants import FIRMWARE_FILES_PREFIX
from server.errors import ApiError
from server.http_range import RangeNotSatisfiable, parse_range
from server.releases import firmware_dir
from server.routes.common import teddy

router = APIRouter()


@router.get(FIRMWARE_FILES_PREFIX + "/{filename}")
def download(request: Request, filename: str) -> Response:
    state = teddy(request)
    release = state.store.release_by_filename(filename)
    path = firmware_dir(state.settings.data_dir) / filename
    if release is None or not path.is_file():
        raise ApiError(404, "not_found", f"no firmware image {filename!r}; read the manifest's url")
    data = path.read_bytes()
    size = len(data)
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{release.sha256}"'}
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != headers["ETag"]:
        range_header = None  # the image changed since the partial download: send it all
    try:
        byte_range = parse_range(range_header, size)
    except RangeNotSatisfiable:
        raise ApiError(
            416,
            "range_not_satisfiable",
            f"range {range_header!r} is outside the image of {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    if byte_range is None:
        return Response(data, media_type="application/octet-stream", headers=headers)
    headers["Content-Range"] = byte_range.content_range(size)
    part = data[byte_range.start : byte_range.end + 1]
    return Response(part, status_code=206, media_type="application/octet-stream", headers=headers)
