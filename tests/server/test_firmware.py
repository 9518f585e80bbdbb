"""Firmware releases, manifest ETags and image download with Range (SPEC §5.1, §5.2)."""

from __future__ import annotations

import hashlib

import pytest

from protocol.image import build_app_image
from server.errors import ReleaseError
from server.releases import ReleaseOverrides, publish_release
from server.store import Release
from tests.server.helpers import Harness, error_code

pytestmark = pytest.mark.unit

MANIFEST = "/api/v1/esp32/firmware"


def _publish(
    h: Harness, version: str = "1.2.0", *, chip: str = "esp32", secure: int = 0
) -> Release:
    image = build_app_image(version=version, chip=chip, secure_version=secure)
    return publish_release(store=h.state.store, data_dir=h.data_dir, image=image, now=h.clock.now)


def test_no_release_is_404(dev: Harness) -> None:
    response = dev.client.get(MANIFEST, params={"chip": "esp32"})
    assert response.status_code == 404
    assert error_code(response) == "no_release"


def test_manifest_describes_the_newest_release(dev: Harness) -> None:
    _publish(dev, "1.2.0")
    newest = _publish(dev, "1.3.0", secure=2)
    _publish(dev, "9.9.9", chip="esp32s3")
    response = dev.client.get(
        MANIFEST, params={"device_id": "Teddy-ESP32-001", "current_version": "1.2.0"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "version": "1.3.0",
        "url": f"http://testserver/web/firmware/{newest.filename}",
        "sha256": newest.sha256,
        "size": newest.size,
        "mandatory": False,
        "secure_version": 2,
        "chip": "esp32",
        "notes": "",
    }
    etag = response.headers["etag"]
    again = dev.client.get(MANIFEST, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=300"
    assert dev.client.get(MANIFEST, params={"chip": "esp32s3"}).json()["version"] == "9.9.9"


def test_unknown_chip_is_422(dev: Harness) -> None:
    response = dev.client.get(MANIFEST, params={"chip": "esp8266"})
    assert response.status_code == 422
    assert error_code(response) == "invalid_request"


def test_bad_device_id_query_is_422(dev: Harness) -> None:
    response = dev.client.get(MANIFEST, params={"device_id": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "device_id"


def test_original_firmware_post_is_405(dev: Harness) -> None:
    # Original defect 16: the firmware POSTed to a GET-only endpoint.
    response = dev.client.post(MANIFEST, json={})
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"


def test_image_download_full_and_ranges(dev: Harness) -> None:
    release = _publish(dev)
    url = f"/web/firmware/{release.filename}"
    full = dev.client.get(url)
    assert full.status_code == 200
    assert hashlib.sha256(full.content).hexdigest() == release.sha256
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["etag"] == f'"{release.sha256}"'
    size = len(full.content)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes=10-{size + 1000}": (10, size - 1),
    }
    for header, (start, end) in cases.items():
        part = dev.client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert part.content == full.content[start : end + 1]


def test_unsatisfiable_range_is_416(dev: Harness) -> None:
    release = _publish(dev)
    url = f"/web/firmware/{release.filename}"
    response = dev.client.get(url, headers={"Range": f"bytes={release.size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{release.size}"
    assert error_code(response) == "range_not_satisfiable"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-5", "bytes=9-2", "bytes=abc"])
def test_ignorable_range_headers_give_the_whole_image(dev: Harness, header: str) -> None:
    release = _publish(dev)
    response = dev.client.get(f"/web/firmware/{release.filename}", headers={"Range": header})
    assert response.status_code == 200
    assert len(response.content) == release.size


def test_if_range_with_another_etag_restarts_from_zero(dev: Harness) -> None:
    release = _publish(dev)
    response = dev.client.get(
        f"/web/firmware/{release.filename}", headers={"Range": "bytes=100-", "If-Range": '"old"'}
    )
    assert response.status_code == 200


def test_unknown_image_is_404(dev: Harness) -> None:
    assert dev.client.get("/web/firmware/nope.bin").status_code == 404


def test_publishing_garbage_is_refused_unless_forced(dev: Harness) -> None:
    with pytest.raises(ReleaseError, match="not a valid ESP32 app image"):
        publish_release(
            store=dev.state.store, data_dir=dev.data_dir, image=b"\x00" * 512, now=dev.clock.now
        )
    broken = build_app_image(version="2.0.0")[:-300]
    release = publish_release(
        store=dev.state.store,
        data_dir=dev.data_dir,
        image=broken,
        now=dev.clock.now,
        allow_invalid=True,
        overrides=ReleaseOverrides(version="2.0.0", chip="esp32"),
    )
    assert dev.client.get(MANIFEST).json()["version"] == "2.0.0"
    assert dev.client.get(f"/web/firmware/{release.filename}").content == broken


def test_same_image_cannot_be_published_twice(dev: Harness) -> None:
    _publish(dev, "1.2.0")
    with pytest.raises(ReleaseError, match="already published"):
        _publish(dev, "1.2.0")


def test_config_reports_the_released_version(dev: Harness) -> None:
    _publish(dev, "1.4.2")
    assert dev.client.get("/api/v1/esp32/config").json()["firmware_version"] == "1.4.2"
