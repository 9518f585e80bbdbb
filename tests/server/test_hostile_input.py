"""Hostile numbers and strings a client sends: bounded parsing, full-match validation.

Issue 13's probe of the reference server: an enormous claim `timestamp` gave 500 (a float
overflow), a JSON number thousands of digits long had no clear refusal, and `$`-anchored
patterns let a value with a trailing newline through (the WebSocket handshake then said
`token_mismatch` instead of `invalid_query`). Each class is fixed where it is parsed:
integers a client sends are compared exactly (never through float), JSON numbers have a
documented digit limit (SPEC §1.1), and every pattern that validates input is matched
whole (`fullmatch`; the source guard below keeps it so).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol._fields import MAX_JSON_NUMBER_DIGITS, strict_loads
from protocol.errors import ProvisioningError
from protocol.provision import parse_provisioning
from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.state import build_state
from tests.server.helpers import FakeClock, Harness, claim_body, error_code, scripted_pipeline
from tests.server.ws_client import claim, refused_upgrade

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CLAIM = "/api/v1/pair/claim"
SKEW_S = 300


# --- numbers ------------------------------------------------------------------------------


def test_an_enormous_claim_timestamp_is_stale_not_a_server_error(dev: Harness) -> None:
    """SPEC §2.4 step 7: 401 stale_timestamp whatever the size (was 500: float overflow)."""
    for timestamp in (10**30, 2**1024, 10**399):  # 10**399: MAX_JSON_NUMBER_DIGITS
        response = dev.client.post(CLAIM, json=claim_body(timestamp=timestamp))
        assert response.status_code == 401, response.text
        assert error_code(response) == "stale_timestamp"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(offset=st.one_of(st.integers(-(10**30), 10**30), st.integers(-400, 400)))
def test_claim_timestamps_are_judged_exactly(dev: Harness, offset: int) -> None:
    dev.clock.advance(61)  # a fresh rate window for every example (SPEC §2.6)
    timestamp = int(dev.clock.now) + offset
    response = dev.client.post(CLAIM, json=claim_body(timestamp=timestamp))
    if timestamp < 0:
        assert response.status_code == 422, response.text  # SPEC §2.3: minimum 0
    elif abs(offset) > SKEW_S:
        assert (response.status_code, error_code(response)) == (401, "stale_timestamp")
    else:
        assert response.status_code == 200, response.text


def test_a_json_number_past_the_digit_limit_is_malformed_json(dev: Harness) -> None:
    """SPEC §1.1: a number of more than MAX_JSON_NUMBER_DIGITS digits is not parsed."""
    body = claim_body()
    text = '{"device_id":"%s","child_id":"child-001","nonce":"%s","hmac_hex":"%s","timestamp":%s}'
    huge = "9" * (MAX_JSON_NUMBER_DIGITS + 1)
    raw = text % (body["device_id"], body["nonce"], body["hmac_hex"], huge)
    response = dev.client.post(CLAIM, content=raw.encode())
    assert response.status_code == 400, response.text
    assert error_code(response) == "malformed_json"
    assert f"{MAX_JSON_NUMBER_DIGITS} digits" in response.json()["error"]["message"]


@given(digits=st.integers(1, 6000), negative=st.booleans(), fraction=st.booleans())
def test_json_numbers_parse_or_refuse_with_value_error(
    digits: int, negative: bool, fraction: bool
) -> None:
    number = ("-" if negative else "") + "7" * digits + (".5" if fraction else "")
    if digits + fraction > MAX_JSON_NUMBER_DIGITS:  # the ".5" is one digit more
        with pytest.raises(ValueError, match="digits"):
            strict_loads(f'{{"n":{number}}}')
    elif fraction and digits > 308:  # past the largest double: refused as infinite
        with pytest.raises(ValueError, match="out of range"):
            strict_loads(f'{{"n":{number}}}')
    else:
        value = strict_loads(f'{{"n":{number}}}')
        assert isinstance(value, dict)
        assert isinstance(value["n"], float if fraction else int)


@pytest.mark.parametrize("number", ["1e400", "-1e999", "1" * 300 + ".0e300"])
def test_a_json_number_too_large_for_a_float_is_refused(number: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        strict_loads(f'{{"n":{number}}}')


# --- strings ------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "data", clock=FakeClock())
    state = build_state(settings, pipeline=scripted_pipeline())
    with EmbeddedServer(settings, state=state) as running:
        yield running


async def _handshake_refusal(server: EmbeddedServer, query: dict[str, str], token: str) -> str:
    url = f"{server.base_url}/api/v1/esp32/private/chat?{httpx.QueryParams(query)}"
    response = await refused_upgrade(url, token)
    assert response.status_code == 403, response.text
    code = response.json()["error"]["code"]
    assert isinstance(code, str)
    return code


@pytest.mark.parametrize("member", ["device_id", "child_id", "child_name", "child_age"])
@pytest.mark.parametrize("tail", ["\n", "\r\n", " \n"])
async def test_a_trailing_newline_in_the_chat_query_is_invalid_query(
    server: EmbeddedServer, member: str, tail: str
) -> None:
    """SPEC §6.1: the query is checked whole before the token's device (was token_mismatch)."""
    who = claim(server.base_url)
    query = {
        "device_id": who.device_id,
        "child_id": who.child_id,
        "child_name": "Mia",
        "child_age": "7",
    }
    query[member] += tail
    expected = "age_out_of_range" if member == "child_age" else "invalid_query"
    assert await _handshake_refusal(server, query, who.access_token) == expected


def test_a_trailing_newline_in_a_provisioning_file_is_refused() -> None:
    entry = {"device_id": "Teddy-ESP32-ABCDEF01\n", "oob_secret": "A" * 64, "child_id": "c-1"}
    with pytest.raises(ProvisioningError, match="device_id"):
        parse_provisioning({"devices": [entry]})


def test_a_trailing_newline_in_a_query_id_is_refused(dev: Harness) -> None:
    response = dev.client.get("/api/v1/esp32/firmware", params={"device_id": "Teddy-ESP32-1\n"})
    assert response.status_code == 422, response.text


# --- the source guard ---------------------------------------------------------------------

_GUARDED = ("protocol", "server", "emulator", "hil")


def _anchored_patterns() -> list[str]:
    """`re.compile` literals ending in `$`: in Python `$` also matches before a final LF."""
    found: list[str] = []
    for package in _GUARDED:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and _is_re_compile(node.func) and node.args):
                    continue
                literal = node.args[0]
                text = literal.value if isinstance(literal, ast.Constant) else None
                if isinstance(text, str) and re.search(r"(?<!\\)\$$", text):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {text!r}")
    return found


def _is_re_compile(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "compile"
        and isinstance(func.value, ast.Name)
        and func.value.id == "re"
    )


def test_no_pattern_is_anchored_with_a_dollar() -> None:
    """Validate with `fullmatch` and no anchors; a `$`-anchored `match` takes `value\\n`."""
    assert _anchored_patterns() == []
