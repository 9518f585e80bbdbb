"""SPEC §4.1 config document: member order, the override keys, bad-typed overrides kept."""

from __future__ import annotations

import pytest

from protocol.config_doc import CONFIG_KEYS, ConfigDocument, Features
from protocol.etag import compute_etag

pytestmark = pytest.mark.unit


def test_the_override_keys_are_the_body_members_in_spec_order() -> None:
    body = ConfigDocument(host="h", port=80).to_json()
    assert tuple(body) == CONFIG_KEYS
    assert CONFIG_KEYS[:3] == ("host", "port", "tls") and CONFIG_KEYS[-1] == "heartbeat_interval"


def test_defaults_follow_spec_4_1() -> None:
    body = ConfigDocument(host="192.168.1.10", port=8000, firmware_version="1.2.0").to_json()
    assert body["ws_path"] == "/api/v1/esp32/private/chat"
    assert body["firmware_endpoint"] == "/api/v1/esp32/firmware"
    assert body["ntp"] == ["pool.ntp.org", "time.google.com", "time.cloudflare.com"]
    assert body["features"] == {
        "ota": True,
        "strict_tls": False,
        "audio_streaming": True,
        "child_safety": True,
    }
    assert body["heartbeat_interval"] == 30
    assert ConfigDocument("h", 1, features=Features(ota=False)).to_json()["features"] == {
        "ota": False,
        "strict_tls": False,
        "audio_streaming": True,
        "child_safety": True,
    }


def test_overrides_replace_as_given_and_unknown_keys_are_ignored() -> None:
    document = ConfigDocument(host="h", port=80)
    body = document.to_json({"heartbeat_interval": "soon", "timestamp": 1, "ntp": []})
    assert body["heartbeat_interval"] == "soon"  # devices must survive it (SPEC §4.3)
    assert body["ntp"] == [] and "timestamp" not in body
    assert compute_etag(body) != compute_etag(document.to_json())
