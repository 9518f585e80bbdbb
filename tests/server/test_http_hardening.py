"""HTTP request-layer hardening (issue 13): bounded Range numbers, streamed body limits,
exact paths, expected client mistakes logged without tracebacks (SPEC §1, §1.1, §5.2)."""

from __future__ import annotations

import json
import logging
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from protocol.constants import CLAIM_PATH, MAX_REQUEST_BODY_BYTES
from protocol.image import build_app_image
from server.app import create_app
from server.body_limit import BODY_LIMITS, body_limit, declared_over
from server.embedded import EmbeddedServer
from server.http_range import RangeNotSatisfiable, bounded, parse_range
from server.releases import publish_release
from server.routes import harness
from server.settings import ServerSettings
from server.state import build_state
from server.store import Release
from tests.server.helpers import Harness, error_code, scripted_pipeline

pytestmark = pytest.mark.unit

HUGE = "9" * 5000  # past Python's int-conversion digit limit (4300)
TOKEN = "harness-token-for-tests-0123456789"
RELEASES = "/api/v1/harness/releases"


def _publish(h: Harness) -> Release:
    image = build_app_image(version="1.2.0", chip="esp32", secure_version=0)
    return publish_release(store=h.state.store, data_dir=h.data_dir, image=image, now=h.clock.now)


def _publish_to(client: TestClient, data_dir: Path) -> Release:
    image = build_app_image(version="1.2.0", chip="esp32", secure_version=0)
    store = client.app.state.teddy.store  # type: ignore[attr-defined]
    return publish_release(store=store, data_dir=data_dir, image=image, now=time.time())


# -- Range numbers are bounded (SPEC §5.2) ------------------------------------------------

_NUMBER = st.one_of(
    st.integers(min_value=0, max_value=10**30).map(str),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=6000).map(lambda n: "0" * n + "7"),
)
_SPECS = st.one_of(
    st.tuples(_NUMBER | st.just(""), _NUMBER | st.just("")).map(lambda p: f"{p[0]}-{p[1]}"),
    st.text(alphabet="0123456789-, =\t٣bytesBYTES", max_size=40),
)
_HEADERS = st.one_of(st.text(max_size=60), _SPECS.map(lambda s: "bytes=" + s))


@given(header=_HEADERS, size=st.integers(min_value=0, max_value=50_000_000))
def test_parse_range_raises_only_416_and_stays_inside_the_file(header: str, size: int) -> None:
    try:
        result = parse_range(header, size)
    except RangeNotSatisfiable:
        return
    if result is not None:
        assert 0 <= result.start <= result.end < size


@given(digits=_NUMBER, cap=st.integers(min_value=0, max_value=10**12))
def test_bounded_is_min_of_the_number_and_the_cap(digits: str, cap: int) -> None:
    # The oracle converts the number exactly (fine for tests: no client controls it here).
    exact = int(digits.lstrip("0") or "0") if len(digits.lstrip("0")) < 4000 else 10**4000
    assert bounded(digits, cap) == min(exact, cap)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (f"0-{HUGE}", (0, 99)),  # end clamped to the file
        (f"-{HUGE}", (0, 99)),  # suffix longer than the file: the whole file
        (f"{'0' * 5000}5-10", (5, 10)),  # leading zeros are not a big number
        (f"{HUGE}-5", None),  # last < first: invalid, ignored
    ],
)
def test_huge_numbers_mean_past_the_end(spec: str, expected: tuple[int, int] | None) -> None:
    result = parse_range("bytes=" + spec, 100)
    assert (None if result is None else (result.start, result.end)) == expected


def test_huge_start_is_416() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={HUGE}-", 100)
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={HUGE}-{HUGE}9", 100)


@pytest.mark.parametrize(
    ("spec", "status"), [(f"{HUGE}-", 416), (f"0-{HUGE}", 206), (f"-{HUGE}", 206)]
)
def test_a_5000_digit_range_number_over_http_is_not_500(
    dev: Harness, spec: str, status: int
) -> None:
    release = _publish(dev)
    url = f"/web/firmware/{release.filename}"
    response = dev.client.get(url, headers={"Range": "bytes=" + spec})
    assert response.status_code == status, response.text
    if status == 416:
        assert error_code(response) == "range_not_satisfiable"
        assert response.headers["content-range"] == f"bytes */{release.size}"
    else:
        assert response.headers["content-range"] == f"bytes 0-{release.size - 1}/{release.size}"


# -- body limits while streaming (SPEC §1.1) ----------------------------------------------

LIMIT = MAX_REQUEST_BODY_BYTES
BIG = 200 * 1024 * 1024  # the probe's body


@pytest.fixture
def live(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "data", harness_token=TOKEN)
    state = build_state(settings, pipeline=scripted_pipeline())
    with EmbeddedServer(settings, state=state) as server:
        yield server


def _connect(server: EmbeddedServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=10)


def _head(path: str, framing: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: teddy\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n"
    ).encode()


def _read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a timeout fails)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _status_and_body(raw: bytes) -> tuple[int, str, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return int(lines[0].split()[1]), head.decode().lower(), json.loads(body)


@pytest.mark.parametrize("length", [str(BIG), "9" * 20])  # 20 digits: the most HTTP takes
def test_content_length_over_the_limit_is_413_before_the_body(
    live: EmbeddedServer, length: str
) -> None:
    with _connect(live) as sock:
        sock.sendall(_head(CLAIM_PATH, f"Content-Length: {length}"))  # the head only
        status, head, body = _status_and_body(_read_to_close(sock))
    assert status == 413
    assert "connection: close" in head
    assert body["error"]["code"] == "payload_too_large"  # type: ignore[index]


def test_a_chunked_body_is_refused_once_past_the_limit(live: EmbeddedServer) -> None:
    chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    sent, received = 0, b""
    with _connect(live) as sock:
        sock.sendall(_head(CLAIM_PATH, "Transfer-Encoding: chunked"))
        sock.setblocking(False)
        closed = False
        while not closed and sent < BIG:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            assert readable or writable, "the server neither answered nor read"
            if readable:
                try:
                    part = sock.recv(65536)
                except ConnectionResetError:
                    part = b""
                received += part
                closed = part == b""
            elif writable:
                try:
                    sent += sock.send(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
        while not closed:  # the answer may still be on its way after a reset send
            readable, _, _ = select.select([sock], [], [], 10)
            assert readable, "no answer"
            part = sock.recv(65536)
            received, closed = received + part, part == b""
    status, head, body = _status_and_body(received)
    assert status == 413, received[:200]
    assert "connection: close" in head
    assert body["error"]["code"] == "payload_too_large"  # type: ignore[index]
    # The server stopped reading right after the limit: what the client got into the socket
    # is that plus the kernel's buffers, nowhere near the 200 MiB it meant to send.
    assert sent < 32 * 1024 * 1024, sent


def test_a_chunked_body_through_the_app_is_413(dev: Harness) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(LIMIT // 4096 + 2):
            yield b" " * 4096

    response = dev.client.post(CLAIM_PATH, content=body())
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert response.headers["connection"] == "close"


def _harnessed(tmp_path: Path) -> TestClient:
    settings = ServerSettings(data_dir=tmp_path / "harnessed", harness_token=TOKEN)
    state = build_state(settings, pipeline=scripted_pipeline())
    return TestClient(create_app(settings, state=state), raise_server_exceptions=False)


def test_the_release_upload_has_its_larger_limit(tmp_path: Path) -> None:
    client = _harnessed(tmp_path)
    over = b'{"pad":"' + b" " * LIMIT + b'"}'
    assert error_code(client.post(CLAIM_PATH, content=over)) == "payload_too_large"
    assert body_limit(RELEASES) > LIMIT
    response = client.post(RELEASES, content=over, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 422, response.text  # refused for its content, not its size
    for path in BODY_LIMITS:  # each declared limit names a path that is served
        served = client.post(path, json={}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert served.status_code != 404, path


@pytest.mark.parametrize(
    ("value", "over"),
    [(str(LIMIT), False), (str(LIMIT + 1), True), ("0" * 5000 + "1", False), (HUGE, True)],
)
def test_declared_length_is_bounded(value: str, over: bool) -> None:
    assert declared_over(value, LIMIT) is over


# -- expected client mistakes are logged at info, without a traceback ---------------------


def _no_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not bad, [(r.name, r.levelname, r.getMessage()) for r in bad]


def _wait_for_record(caplog: pytest.LogCaptureFixture, text: str) -> None:
    """Block until the server's thread logs `text` (or an error): an event, not polling."""
    seen = threading.Event()

    def matches(record: logging.LogRecord) -> bool:
        return text in record.getMessage() or record.levelno >= logging.ERROR

    class _Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if matches(record):
                seen.set()

    watch = _Watch()
    logging.getLogger().addHandler(watch)
    try:
        if not any(matches(r) for r in caplog.records):
            assert seen.wait(10), f"no log line with {text!r}"
    finally:
        logging.getLogger().removeHandler(watch)


def test_a_client_hanging_up_mid_body_is_one_info_line(
    live: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with _connect(live) as sock:
        sock.sendall(_head(CLAIM_PATH, "Content-Length: 1000") + b'{"device_id": ')
    _wait_for_record(caplog, "hung up")
    _no_error_logged(caplog)


def test_a_refused_body_is_one_info_line(
    live: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with _connect(live) as sock:
        sock.sendall(_head(CLAIM_PATH, "Transfer-Encoding: chunked"))
        sock.sendall(b"%x\r\n" % (LIMIT + 1) + b" " * (LIMIT + 1) + b"\r\n")
        assert _status_and_body(_read_to_close(sock))[0] == 413
    _wait_for_record(caplog, "refused a body")
    _no_error_logged(caplog)


# -- paths are exact: a trailing slash is 404, never a redirect (SPEC §1) -----------------

SPEC = Path(__file__).resolve().parents[2] / "protocol" / "SPEC.md"
_PARAM = re.compile(r"\{[^}]+\}")
_ENDPOINT_ROW = re.compile(r"\| (GET|POST)[^|]* \| `(/[^`]+)` \|")


def _spec_endpoints() -> list[tuple[str, str]]:
    """The (method, path) rows of SPEC §1's endpoint table."""
    section = SPEC.read_text().split("**Endpoints.**", 1)[1].split("### 1.1", 1)[0]
    return [(m[1], m[2]) for m in _ENDPOINT_ROW.finditer(section)]


def test_the_spec_endpoint_table_is_read() -> None:
    assert ("GET", "/openapi.json") in _spec_endpoints()
    assert len(_spec_endpoints()) == 8


def test_every_endpoint_with_a_trailing_slash_is_404(tmp_path: Path) -> None:
    client = _harnessed(tmp_path)
    release = _publish_to(client, tmp_path / "harnessed")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    paths = [
        (method, path.replace("<file>", release.filename)) for method, path in _spec_endpoints()
    ]
    for route in harness.router.routes:  # the admin API's paths (SPEC §11), one method each
        assert isinstance(route, APIRoute)
        paths.append((sorted(route.methods or {"GET"})[0], _PARAM.sub("x", route.path)))
    assert len(paths) > len(_spec_endpoints()) + 5
    for method, path in paths:
        response = client.request(method, path + "/", headers=auth, follow_redirects=False)
        assert response.status_code == 404, (method, path, response.status_code)
        assert error_code(response) == "not_found"


def test_a_cut_download_is_one_info_line(
    live: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    state = live.state
    assert state is not None
    image = build_app_image(version="1.5.0")
    release = publish_release(
        store=state.store, data_dir=state.settings.data_dir, image=image, now=0
    )
    state.faults.cut_download(100)
    with pytest.raises(httpx.TransportError):  # the device sees the connection drop
        httpx.get(f"{live.base_url}/web/firmware/{release.filename}")
    _wait_for_record(caplog, "download cut")
    _no_error_logged(caplog)
