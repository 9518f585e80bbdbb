"""The harness admin API (SPEC §11): off by default, token-guarded, refused in production; a
reset forgets everything and applies settings; provisioning, releases, config, faults, events
and files do what SPEC says; bad requests are refused without changing anything."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from protocol.image import build_app_image
from server.app import create_app
from server.errors import ConfigurationError
from server.settings import Profile, ServerSettings
from server.state import build_state
from tests.server.helpers import claim_body, error_code, scripted_pipeline

pytestmark = pytest.mark.unit

TOKEN = "harness-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPEC = Path(__file__).resolve().parents[2] / "protocol" / "SPEC.md"


def client(data_dir: Path, *, token: str | None = TOKEN) -> TestClient:
    settings = ServerSettings(data_dir=data_dir, harness_token=token)
    state = build_state(settings, pipeline=scripted_pipeline())
    return TestClient(create_app(settings, state=state), raise_server_exceptions=False)


def test_off_by_default_and_guarded_by_its_token(tmp_path: Path) -> None:
    off = client(tmp_path / "off", token=None)
    assert off.get("/api/v1/harness", headers=AUTH).status_code == 404
    on = client(tmp_path / "on")
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong"}, {"Authorization": TOKEN}):
        refused = on.post("/api/v1/harness/reset", json={}, headers=headers)
        assert refused.status_code == 401 and error_code(refused) == "harness_unauthorized"
    found = on.get("/api/v1/harness", headers=AUTH).json()
    assert found["api"] == 1 and "reset" in found["offers"] and "chat_path" in found["settings"]


def test_production_and_short_tokens_are_refused(tmp_path: Path) -> None:
    production = ServerSettings(data_dir=tmp_path, profile=Profile.PRODUCTION, harness_token=TOKEN)
    with pytest.raises(ConfigurationError, match="production"):
        create_app(production, state=build_state(production, pipeline=scripted_pipeline()))
    short = ServerSettings(data_dir=tmp_path, harness_token="short")
    with pytest.raises(ConfigurationError, match="at least 16"):
        create_app(short, state=build_state(short, pipeline=scripted_pipeline()))


def test_reset_forgets_nonces_and_applies_settings(tmp_path: Path) -> None:
    c = client(tmp_path)
    body = claim_body()
    assert c.post("/api/v1/pair/claim", json=body).status_code == 200
    assert error_code(c.post("/api/v1/pair/claim", json=body)) == "nonce_reused"
    applied = c.post(
        "/api/v1/harness/reset",
        json={"settings": {"profile": "production", "access_ttl_s": 4, "chat_path": "/ws/v2"}},
        headers=AUTH,
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["settings"]["access_ttl_s"] == 4
    assert applied.json()["settings"]["quirks"] == []  # echoed too (SPEC §11.2)
    with_quirk = c.post(
        "/api/v1/harness/reset",
        json={"settings": {"quirks": ["no_suffix_range"]}},
        headers=AUTH,
    )
    assert with_quirk.json()["settings"]["quirks"] == ["no_suffix_range"], with_quirk.text
    c.post(
        "/api/v1/harness/reset",
        json={"settings": {"profile": "production", "access_ttl_s": 4, "chat_path": "/ws/v2"}},
        headers=AUTH,
    )
    # Production now: the device the development profile registered is gone.
    assert error_code(c.post("/api/v1/pair/claim", json=claim_body())) == "device_not_found"
    assert c.get("/health").json()["profile"] == "production"
    assert c.post("/api/v1/harness/reset", json={}, headers=AUTH).status_code == 200
    granted = c.post("/api/v1/pair/claim", json=body)  # the same nonce is fresh again
    assert granted.status_code == 200
    url = granted.json()["device_config"]["websocket_url"]
    assert url.endswith("/api/v1/esp32/private/chat")  # the chat is back at its default path


def test_a_setting_it_cannot_apply_resets_nothing(tmp_path: Path) -> None:
    c = client(tmp_path)
    body = claim_body()
    assert c.post("/api/v1/pair/claim", json=body).status_code == 200
    for settings in ({"quantum": 1}, {"access_ttl_s": -1}, {"profile": "staging"}):
        refused = c.post("/api/v1/harness/reset", json={"settings": settings}, headers=AUTH)
        assert refused.status_code == 422, settings
        assert refused.json()["error"]["details"][0]["reason"] == "unsupported_value"
    assert error_code(c.post("/api/v1/pair/claim", json=body)) == "nonce_reused"


def test_provision_config_and_release(tmp_path: Path) -> None:
    c = client(tmp_path)
    doc = {"devices": [{"device_id": "Teddy-ESP32-0007", "enabled": False}]}
    assert c.post("/api/v1/harness/provision", json=doc, headers=AUTH).status_code == 204
    refused = c.post("/api/v1/pair/claim", json=claim_body("Teddy-ESP32-0007"))
    assert error_code(refused) == "device_disabled"
    bad = c.post("/api/v1/harness/provision", json={"devices": [{}]}, headers=AUTH)
    assert bad.status_code == 422
    assert (
        c.put("/api/v1/harness/config/heartbeat_interval", json=5, headers=AUTH).status_code == 204
    )
    assert c.get("/api/v1/esp32/config").json()["heartbeat_interval"] == 5
    assert c.put("/api/v1/harness/config/colour", json=5, headers=AUTH).status_code == 422
    image = build_app_image(version="1.4.0", chip="esp32", secure_version=0, payload=b"")
    published = c.post(
        "/api/v1/harness/releases",
        json={"image_b64": base64.b64encode(image).decode(), "notes": "n"},
        headers=AUTH,
    )
    assert published.status_code == 201, published.text
    assert published.json()["version"] == "1.4.0"
    manifest = c.get(
        "/api/v1/esp32/firmware",
        params={"device_id": "Teddy-ESP32-0001", "current_version": "1.0.0", "chip": "esp32"},
    )
    assert manifest.json()["version"] == "1.4.0"
    junk = c.post("/api/v1/harness/releases", json={"image_b64": "!!"}, headers=AUTH)
    assert junk.status_code == 422


def test_faults_events_and_files(tmp_path: Path) -> None:
    c = client(tmp_path)
    fault = {"kind": "http_status", "path": "/api/v1/esp32/config", "status": 503}
    assert c.post("/api/v1/harness/faults", json=fault, headers=AUTH).status_code == 204
    assert c.get("/api/v1/esp32/config").status_code == 503
    assert (
        c.post("/api/v1/harness/faults", json={"kind": "meteor"}, headers=AUTH).status_code == 422
    )
    for kind in ("cut_reply", "drop_first_chunk"):  # armed for the next chat connection
        armed = {"kind": kind, "count": 2}
        assert c.post("/api/v1/harness/faults", json=armed, headers=AUTH).status_code == 204
    c.post("/api/v1/pair/claim", json=claim_body())
    first = c.get("/api/v1/harness/events", headers=AUTH).json()
    names = [e["name"] for e in first["events"]]
    assert names == ["claim.ok"] and first["next"] == first["events"][-1]["seq"]
    later = c.get(f"/api/v1/harness/events?after={first['next']}&wait=0.05", headers=AUTH)
    assert later.json() == {"events": [], "next": first["next"]}
    listed = c.get("/api/v1/harness/files", headers=AUTH).json()["files"]
    assert "jwt.key" in {f["path"] for f in listed}
    assert c.get("/api/v1/harness/files/jwt.key", headers=AUTH).status_code == 200
    for path in ("../../etc/passwd", "%2e%2e/jwt.key", "nothing.wav"):
        assert c.get(f"/api/v1/harness/files/{path}", headers=AUTH).status_code == 404


def _spec_section(number: str) -> str:
    text = SPEC.read_text(encoding="utf-8")
    start = text.index(f"### {number} ")
    end = min(i for i in (text.find("\n### ", start + 1), text.find("\n## ", start)) if i > 0)
    return text[start:end]


def test_spec_tables_match_the_code() -> None:
    from hil.runner.external import NEEDED_PARTS
    from hil.steps.server_side import SERVER_EVENT_NAMES
    from server.harness_control import RESET_SETTINGS
    from server.routes.harness import OFFERS

    events = re.findall(r"`([a-z]+\.[a-z_]+)`", _spec_section("11.5").split("| event |")[1])
    assert sorted(set(events)) == sorted(SERVER_EVENT_NAMES)
    members = re.findall(r"^\| `([a-z_]+)`", _spec_section("11.2"), re.MULTILINE)
    members += ["refresh_ttl_s"]  # listed in one row with access_ttl_s
    assert sorted(members) == sorted(RESET_SETTINGS)
    assert f'"offers": {list(OFFERS)}'.replace("'", '"') in _spec_section("11.1")
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", _spec_section("11.6"), re.MULTILINE)
    parts = {cap: frozenset(re.findall(r"`([a-z]+)`", need)) for cap, need in rows}
    assert parts == dict(NEEDED_PARTS)
