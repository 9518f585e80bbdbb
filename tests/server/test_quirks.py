"""Legacy-server quirks (SPEC Appendix B) at the server's own edges: each test runs the same
requests against the server without and with the quirk, and shows the SPEC behaviour
turning into the original's defect. The scenarios that catch each quirk run in
tests/hil/test_server_quirks.py and tests/hil/test_probe.py."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from protocol.crypto import derive_oob_secret
from protocol.image import build_app_image
from protocol.server_quirks import QUIRK_NAMES, QUIRKS, Quirks
from server import cli
from server.app import create_app
from server.chat_session import ChatSession, Send
from server.errors import ConfigurationError
from server.releases import publish_release
from server.routes.chat_connection import CANNED_ANSWER, Peer, canned_answer
from server.settings import Profile, ServerSettings
from server.speech.interfaces import ChildContext
from server.state import build_state
from server.tokens import TokenType
from server.utterance_audio import keeper_for
from tests.server.helpers import FakeClock, Harness, claim_body, error_code, scripted_pipeline

pytestmark = pytest.mark.unit

CLAIM = "/api/v1/pair/claim"
REFRESH = "/api/v1/pair/token/refresh"
CONFIG = "/api/v1/esp32/config"
TS = "2026-01-01T00:00:00.000+00:00"


def _harness(data_dir: Path, *names: str) -> Harness:
    clock = FakeClock()
    settings = ServerSettings(data_dir=data_dir, clock=clock, quirks=Quirks.named(names))
    state = build_state(settings, pipeline=scripted_pipeline())
    client = TestClient(create_app(settings, state=state), raise_server_exceptions=False)
    return Harness(client, state, clock, data_dir)


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A development server with the quirks named by the test's `quirks` parameter."""
    names: tuple[str, ...] = getattr(request, "param", ())
    harness = _harness(tmp_path / "data", *names)
    yield harness
    harness.state.store.close()


def with_and_without(name: str) -> pytest.MarkDecorator:
    """Run a test on the SPEC server (`spec`) and with the quirk on (`quirk`)."""
    return pytest.mark.parametrize(
        "server", [pytest.param((), id="spec"), pytest.param((name,), id="quirk")], indirect=True
    )


def quirky(h: Harness) -> bool:
    return bool(h.state.settings.quirks)


@pytest.mark.parametrize("name", QUIRK_NAMES)
def test_production_refuses_every_quirk(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"quirks \\({name}\\).*development profile"):
        ServerSettings(data_dir=tmp_path, profile=Profile.PRODUCTION, quirks=Quirks.named([name]))


def test_the_default_is_the_spec_server(tmp_path: Path) -> None:
    assert not ServerSettings(data_dir=tmp_path).quirks


@with_and_without("double_prefix_routes")
def test_the_doubled_prefix(server: Harness) -> None:
    doubled = server.client.get("/api/v1/esp32/api/v1/esp32/config")
    spec = server.client.get(CONFIG)
    if quirky(server):
        assert (spec.status_code, doubled.status_code) == (404, 200)
    else:
        assert (spec.status_code, doubled.status_code) == (200, 404)
    assert server.client.post(CLAIM, json=claim_body()).status_code == 200  # not under it


@with_and_without("legacy_ws_path_crash")
def test_the_legacy_websocket_path(server: Harness) -> None:
    errors = (WebSocketDenialResponse, WebSocketDisconnect, RuntimeError)
    with pytest.raises(errors) as failed, server.client.websocket_connect("/ws/esp32/connect"):
        pass
    if quirky(server):  # the handler itself crashed (the ASGI server answers 500)
        assert "crashed" in str(failed.value)
    else:
        assert isinstance(failed.value, WebSocketDisconnect)  # no route: closed before accept


@with_and_without("legacy_websocket_url")
def test_the_claims_websocket_url(server: Harness) -> None:
    url = server.client.post(CLAIM, json=claim_body()).json()["device_config"]["websocket_url"]
    path = "/ws/esp32/connect" if quirky(server) else "/api/v1/esp32/private/chat"
    assert url == f"ws://testserver{path}"


@with_and_without("refresh_always_refused")
def test_a_good_refresh(server: Harness) -> None:
    token = server.client.post(CLAIM, json=claim_body()).json()["refresh_token"]
    response = server.client.post(REFRESH, json={"refresh_token": token})
    if quirky(server):
        assert (response.status_code, error_code(response)) == (401, "invalid_token")
    else:
        assert response.status_code == 200, response.text


@with_and_without("nonce_burned_before_hmac")
def test_a_corrected_retry_keeps_its_nonce(server: Harness) -> None:
    body = claim_body()
    forged = {**body, "hmac_hex": "0" * 64}
    assert server.client.post(CLAIM, json=forged).status_code == 401
    retry = server.client.post(CLAIM, json=body)
    assert retry.status_code == (409 if quirky(server) else 200), retry.text


@with_and_without("disabled_device_500")
def test_a_disabled_device(server: Harness) -> None:
    server.state.store.upsert_device(
        device_id="Teddy-ESP32-001",
        oob_secret=derive_oob_secret("Teddy-ESP32-001"),
        enabled=False,
        now=server.clock.now,
    )
    response = server.client.post(CLAIM, json=claim_body())
    wanted = ("internal_error", 500) if quirky(server) else ("device_disabled", 403)
    assert (error_code(response), response.status_code) == wanted


@with_and_without("claim_replay_accepted")
def test_a_replayed_claim(server: Harness) -> None:
    body = claim_body()
    assert server.client.post(CLAIM, json=body).status_code == 200
    replay = server.client.post(CLAIM, json=body)
    assert replay.status_code == (200 if quirky(server) else 409), replay.text


@with_and_without("refresh_reuse_undetected")
def test_a_reused_refresh_token(server: Harness) -> None:
    first = server.client.post(CLAIM, json=claim_body()).json()["refresh_token"]
    rotated = server.client.post(REFRESH, json={"refresh_token": first})
    assert rotated.status_code == 200
    reused = server.client.post(REFRESH, json={"refresh_token": first})
    newer = server.client.post(REFRESH, json={"refresh_token": rotated.json()["refresh_token"]})
    if quirky(server):  # accepted, and the family lives on
        assert (reused.status_code, newer.status_code) == (200, 200)
    else:
        assert error_code(reused) == "refresh_token_reused"
        assert error_code(newer) == "invalid_token"  # the session was revoked


@with_and_without("legacy_token_minting")
def test_the_legacy_minting_path(server: Harness) -> None:
    body = {"old_token": "anything", "device_id": "teddy-esp32-0042"}
    response = server.client.post("/api/v1/esp32/token/refresh", json=body)
    if not quirky(server):
        assert (response.status_code, error_code(response)) == (404, "not_found")
        return
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    claims = server.state.tokens.verify(token, expected=TokenType.ACCESS, now=server.clock.now)
    assert claims.device_id == "teddy-esp32-0042"  # a real token, for nobody who proved it
    assert not server.state.store.session_revoked(claims.session_id)


@with_and_without("etag_string_compare")
def test_if_none_match_and_the_304(server: Harness) -> None:
    etag = server.client.get(CONFIG).headers["etag"]
    exact = server.client.get(CONFIG, headers={"If-None-Match": etag})
    weak = server.client.get(CONFIG, headers={"If-None-Match": f"W/{etag}"})
    assert exact.status_code == 304
    if quirky(server):
        assert "etag" not in exact.headers and "cache-control" not in exact.headers
        assert weak.status_code == 200
    else:
        assert exact.headers["etag"] == etag and exact.headers["cache-control"]
        assert weak.status_code == 304


@with_and_without("no_suffix_range")
def test_a_suffix_range(server: Harness) -> None:
    image = build_app_image(version="1.2.0", chip="esp32")
    release = publish_release(
        store=server.state.store, data_dir=server.data_dir, image=image, now=server.clock.now
    )
    url = f"/web/firmware/{release.filename}"
    tail = server.client.get(url, headers={"Range": "bytes=-32"})
    empty = server.client.get(url, headers={"Range": "bytes=-0"})
    head = server.client.get(url, headers={"Range": "bytes=0-31"})
    assert head.status_code == 206  # other ranges are untouched
    if quirky(server):
        assert (tail.status_code, len(tail.content)) == (200, len(image))
        assert empty.status_code == 200
    else:
        assert (tail.status_code, tail.content) == (206, image[-32:])
        assert empty.status_code == 416


def _upgrade(h: Harness, *, token: str | None, age: int) -> str:
    """The handshake's outcome: `accepted`, or the refusal reason (SPEC §6.1)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    query = f"device_id=Teddy-ESP32-001&child_id=child-001&child_name=Mia&child_age={age}"
    try:
        with h.client.websocket_connect(
            f"/api/v1/esp32/private/chat?{query}", headers=headers
        ) as ws:
            hello = ws.receive_json()
            assert hello["data"]["type"] == "connection_established"
            return "accepted"
    except WebSocketDenialResponse as refused:
        return str(json.loads(refused.content)["error"]["code"])


@with_and_without("chat_without_jwt")
def test_the_chat_without_a_token(server: Harness) -> None:
    outcome = _upgrade(server, token=None, age=7)
    assert outcome == ("accepted" if quirky(server) else "missing_token")
    assert _upgrade(server, token="not-a-jwt", age=7) == outcome.replace("missing", "invalid")


@with_and_without("dashboard_age_limit")
def test_a_fourteen_year_old(server: Harness) -> None:
    token = server.client.post(CLAIM, json=claim_body()).json()["access_token"]
    assert _upgrade(server, token=token, age=14) == (
        "accepted" if quirky(server) else "age_out_of_range"
    )
    assert _upgrade(server, token=token, age=19) == "age_out_of_range"  # 3..18 still holds


@with_and_without("child_id_as_uuid")
def test_the_canned_answer_for_a_child_that_is_not_a_uuid(server: Harness) -> None:
    child = ChildContext(name="Mia", age=7)
    plain = Peer("teddy-esp32-0001", child, "s", child_key="child-001")
    uuid_child = Peer("teddy-esp32-0001", child, "s", child_key=str(uuid.uuid4()))
    wanted = CANNED_ANSWER if quirky(server) else None
    assert canned_answer(server.state, plain) == wanted
    assert canned_answer(server.state, uuid_child) is None


def test_keep_every_utterance_writes_whatever_the_setting(tmp_path: Path) -> None:
    quirks = Quirks.named(["keep_every_utterance"])
    assert keeper_for(ServerSettings(data_dir=tmp_path)) is None
    kept = keeper_for(ServerSettings(data_dir=tmp_path, quirks=quirks))
    assert kept is not None


def _session(*names: str) -> ChatSession:
    return ChatSession(
        session_id="s", child_name="Mia", new_id=lambda: "r", quirks=Quirks.named(names)
    )


@pytest.mark.parametrize(
    ("names", "errors"), [((), []), (("audio_end_after_final_error",), ["no_audio_data"])]
)
def test_the_audio_end_after_an_is_final_chunk(names: tuple[str, ...], errors: list[str]) -> None:
    session = _session(*names)
    session.receive_text('{"type":"audio_start","audio_session_id":"u-1"}', timestamp=TS)
    chunk = {"type": "audio_chunk", "audio_session_id": "u-1", "chunk_id": "0", "is_final": True}
    pcm = "AAAA" * 1100  # 3300 bytes, over the 3200-byte minimum
    session.receive_text(json.dumps({**chunk, "audio_data": pcm}), timestamp=TS)
    after = session.receive_text('{"type":"audio_end","audio_session_id":"u-1"}', timestamp=TS)
    assert [a.error_code for a in after if isinstance(a, Send)] == errors


@pytest.mark.parametrize(
    ("names", "code"),
    [((), "unknown_message_type"), (("unknown_type_processing_error",), "processing_error")],
)
def test_an_unknown_message_type(names: tuple[str, ...], code: str) -> None:
    sent = _session(*names).receive_text('{"type":"handshake"}', timestamp=TS)
    assert [a.error_code for a in sent if isinstance(a, Send)] == [code]


@pytest.mark.parametrize(("names", "frames"), [((), 16), (("reply_in_one_frame",), 1)])
def test_the_reply_framing(names: tuple[str, ...], frames: int) -> None:
    pcm = os.urandom(64_000)  # 2 s of speech
    sent = _session(*names).reply(
        audio_session_id="u-1", transcript="hi", text="Hello!", pcm=pcm, timestamp=TS
    )
    audio = [json.loads(s.text) for s in sent[1:]]
    assert len(audio) == frames and audio[-1]["is_final"]
    biggest = max(len(s.text.encode()) for s in sent[1:])
    assert (biggest >= 8192) == bool(names), biggest


def test_serve_takes_repeated_quirks_and_lists_them_in_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = cli._parser().parse_args(
        ["serve", "--quirk", "chat_without_jwt", "--quirk", "no_suffix_range"]
    )
    assert [q.name for q in args.quirks] == ["chat_without_jwt", "no_suffix_range"]
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for quirk in QUIRKS:
        assert quirk.label() in shown


def test_serve_names_the_valid_quirks_for_an_unknown_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--quirk", "handshake_crash"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"unknown quirk 'handshake_crash'; valid quirks: {', '.join(QUIRK_NAMES)}" in err


def test_serve_refuses_quirks_in_production(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--profile", "production", "--quirk", "chat_without_jwt"]
    assert cli.main([*argv, "--data", str(tmp_path)]) == 2
    assert "quirks (chat_without_jwt)" in capsys.readouterr().err
