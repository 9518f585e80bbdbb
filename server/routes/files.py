"""Firmware image download with HTTP Range, so devices resume cut downloads (SPEC §5.2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from protocol.constants import FIRMWARE_FILES_PREFIX
from protocol.server_quirks import NO_SUFFIX_RANGE
from server.errors import ApiError
from server.faults import CUT_MARK
from server.http_range import RangeNotSatisfiable, parse_range
from server.openapi import IMAGE_RESPONSES
from server.releases import firmware_dir
from server.routes.common import teddy

router = APIRouter(redirect_slashes=False)  # paths are exact (SPEC §1)


@router.get(FIRMWARE_FILES_PREFIX + "/{filename}", responses=IMAGE_RESPONSES)
def download(
    request: Request,
    filename: str,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range")] = None,
) -> Response:
    state = teddy(request)
    release = state.store.release_by_filename(filename)
    path = firmware_dir(state.settings.data_dir) / filename
    if release is None or not path.is_file():
        raise ApiError(404, "not_found", f"no firmware image {filename!r}; read the manifest's url")
    data = path.read_bytes()
    size = len(data)
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{release.sha256}"'}
    if if_range is not None and if_range.strip() != headers["ETag"]:
        range_header = None  # the image changed since the partial download: send it all
    if NO_SUFFIX_RANGE in state.settings.quirks and _is_suffix(range_header):
        range_header = None  # quirk no_suffix_range: bytes=-N is not understood (SPEC §5.2)
    try:
        byte_range = parse_range(range_header, size)
    except RangeNotSatisfiable:
        raise ApiError(
            416,
            "range_not_satisfiable",
            f"range {range_header!r} is outside the image of {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    status, start, end = 200, 0, size - 1
    if byte_range is not None:
        status, start, end = 206, byte_range.start, byte_range.end
        headers["Content-Range"] = byte_range.content_range(size)
    body = data[start : end + 1]
    served = {"status": status, "start": start, "end": end, "bytes": len(body)}
    cut = state.faults.take_cut()
    if cut is not None and cut < len(body):
        # Fault injection: send part of the body, then drop the connection (network loss).
        state.events.publish("image.served", {**served, "bytes": cut, "cut": True})
        headers["Content-Length"] = str(len(body))  # the whole body is declared
        setattr(request.state, CUT_MARK, True)  # server.faults.CutDownloads cuts it short
        return Response(
            body[:cut], status_code=status, headers=headers, media_type="application/octet-stream"
        )
    state.events.publish("image.served", served)
    return Response(
        body, status_code=status, media_type="application/octet-stream", headers=headers
    )


def _is_suffix(range_header: str | None) -> bool:
    """`bytes=-N`: the last N bytes (RFC 9110 §14.1.1 suffix-range)."""
    return range_header is not None and range_header.partition("=")[2].lstrip().startswith("-")
