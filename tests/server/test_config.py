"""Config document and ETag / If-None-Match semantics (SPEC §4)."""

from __future__ import annotations

import pytest

from tests.server.helpers import Harness

pytestmark = pytest.mark.unit

CONFIG = "/api/v1/esp32/config"


def test_config_has_every_field_and_an_etag(dev: Harness) -> None:
    response = dev.client.get(CONFIG)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "host",
        "port",
        "tls",
        "ws_path",
        "firmware_endpoint",
        "ntp",
        "features",
        "app_version",
        "firmware_version",
        "heartbeat_interval",
    }
    assert body["ws_path"] == "/api/v1/esp32/private/chat"
    assert body["firmware_endpoint"] == "/api/v1/esp32/firmware"
    assert set(body["features"]) == {"ota", "strict_tls", "audio_streaming", "child_safety"}
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 18
    assert "max-age=600" in response.headers["cache-control"]


@pytest.mark.parametrize(
    "header",
    ["{etag}", "W/{etag}", '"nope", {etag}', "*", " {etag} ", '"a",W/{etag},"b"'],
)
def test_matching_if_none_match_is_304_with_etag(dev: Harness, header: str) -> None:
    etag = dev.client.get(CONFIG).headers["etag"]
    response = dev.client.get(CONFIG, headers={"If-None-Match": header.format(etag=etag)})
    assert response.status_code == 304
    assert response.headers["etag"] == etag
    assert "max-age=600" in response.headers["cache-control"]
    assert response.content == b""


@pytest.mark.parametrize("header", ['"0000000000000000"', "garbage", "", 'W/"x"'])
def test_non_matching_if_none_match_is_200(dev: Harness, header: str) -> None:
    response = dev.client.get(CONFIG, headers={"If-None-Match": header})
    assert response.status_code == 200


def test_changed_config_changes_the_etag(dev: Harness) -> None:
    etag = dev.client.get(CONFIG).headers["etag"]
    dev.state.store.set_config("heartbeat_interval", 15)
    response = dev.client.get(CONFIG, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.json()["heartbeat_interval"] == 15
    assert response.headers["etag"] != etag


def test_etag_is_stable_across_requests(dev: Harness) -> None:
    assert dev.client.get(CONFIG).headers["etag"] == dev.client.get(CONFIG).headers["etag"]
