"""The tap's HTTP decoder (hil.tap.http) fed raw bytes: framing by h11, never by hand."""

from __future__ import annotations

import pytest

from hil.tap.http import HttpObserver
from hil.tap.records import DOWN, UP
from tests.hil_tap.helpers import Collected, dig

pytestmark = pytest.mark.unit

GET = b'GET /api/v1/esp32/config?x=a%20b&x=2 HTTP/1.1\r\nHost: tap:1\r\nIf-None-Match: "e"\r\n\r\n'


def observe(*chunks: tuple[str, bytes]) -> tuple[Collected, HttpObserver]:
    got = Collected()
    http = HttpObserver(got.rec)
    for direction, data in chunks:
        http.feed(direction, data)
    return got, http


def test_keep_alive_exchanges_are_numbered_on_one_connection() -> None:
    got, _ = observe(
        (UP, GET),
        (DOWN, b"HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\nCache-Control: max-age=600\r\n\r\n"),
        (UP, b"POST /api/v1/pair/claim HTTP/1.1\r\nHost: tap:1\r\n"
             b"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"nonce\":\"a\"}"),
        (DOWN, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
    )  # fmt: skip
    assert got.kinds() == ["request", "response", "request", "response"]
    first, answer, claim, _ = got.records
    assert first["query"] == "x=a%20b&x=2"
    assert first["query_params"] == {"x": ["a b", "2"]}
    assert first["headers"] == [["Host", "tap:1"], ["If-None-Match", '"e"']]  # case as sent
    assert answer["status"] == 304 and answer["path"] == "/api/v1/esp32/config"
    assert answer["headers"] == [["ETag", '"e"'], ["Cache-Control", "max-age=600"]]
    assert claim["exchange"] == 2
    assert dig(claim, "body", "json") == {"nonce": "a"}


def test_chunked_bodies_and_pipelined_requests() -> None:
    got, _ = observe(
        (UP, GET + GET.replace(b"config", b"firmware")),  # two requests in one segment
        (DOWN, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
               b"5\r\nhello\r\n"),
        (DOWN, b"6\r\n world\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    )  # fmt: skip
    assert got.kinds() == ["request", "response", "request", "response"]
    assert dig(got.records[1], "body", "text") == "hello world"
    assert got.records[3]["path"] == "/api/v1/esp32/firmware"
    assert got.records[3]["status"] == 404


def test_a_head_response_has_no_body_and_206_streams_its_range() -> None:
    got, _ = observe(
        (UP, b"HEAD /f HTTP/1.1\r\nHost: t\r\n\r\n"),
        (DOWN, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        (UP, b"GET /f HTTP/1.1\r\nHost: t\r\nRange: bytes=10-\r\n\r\n"),
        (DOWN, b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-13/14\r\n"
               b"Content-Length: 4\r\n\r\n\xe9\x00"),
    )  # fmt: skip
    assert got.kinds() == ["request", "response", "request"]  # the 206 is still streaming
    assert dig(got.records[1], "body", "size") == 0
    assert got.records[1]["complete"] is True


def test_a_download_cut_mid_body_is_recorded_as_cut() -> None:
    got, http = observe(
        (UP, b"GET /f HTTP/1.1\r\nHost: t\r\n\r\n"),
        (DOWN, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + bytes(40)),
    )
    http.eof(DOWN)
    (response,) = got.of("response")
    assert response["complete"] is False
    assert dig(response, "body", "size") == 40
    assert "error" in response


def test_an_upgrade_hands_over_what_followed_the_handshake() -> None:
    got, http = observe(
        (UP, b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Authorization: Bearer abc\r\n\r\n\x81\x85"),
        (DOWN, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"\r\n\x81\x02hi"),
    )  # fmt: skip
    assert http.upgrade is not None
    assert http.upgrade.up_rest == b"\x81\x85"
    assert http.upgrade.down_rest == b"\x81\x02hi"
    assert dig(got.records[0], "headers")[-1] == ["Authorization", "Bearer abc"]
    assert got.records[1]["status"] == 101


def test_a_refused_upgrade_stays_http() -> None:
    got, http = observe(
        (UP, b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        (DOWN, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno"),
        (UP, GET),
    )
    assert http.upgrade is None
    assert [r.get("status") for r in got.of("response")] == [401]
    assert len(got.of("request")) == 2


@pytest.mark.parametrize(
    ("direction", "garbage"),
    [(UP, b"\x16\x03\x01\x02\x00 TLS hello?\r\n\r\n"), (DOWN, b"SMTP ready\r\n\r\n")],
)
def test_garbage_gives_an_error_record_and_stops_decoding(direction: str, garbage: bytes) -> None:
    chunks = [(UP, GET)] if direction == DOWN else []
    got, http = observe(*chunks, (direction, garbage), (direction, b"more"))
    assert http.broken
    (error,) = got.of("error")
    assert error["dir"] == direction
    assert str(error["preview"]).startswith(garbage[:5].decode("latin-1"))


def test_a_server_closing_before_it_answers_leaves_the_request_unanswered() -> None:
    got, http = observe((UP, GET))
    http.eof(DOWN)
    http.finish("eof")
    assert got.kinds() == ["request"]
    assert http.unanswered() == ["GET /api/v1/esp32/config?x=a%20b&x=2"]
