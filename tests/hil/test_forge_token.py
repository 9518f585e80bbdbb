"""`forge_token` and hil.jws: forged tokens are what the step says (checked by PyJWT with
the key they claim), malformed steps are refused at load with file:line, and a token that
is not a JWS fails the step."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import jwt
import pytest

from hil import jws
from hil.errors import ScenarioLoadError
from hil.result import Status
from hil.runner.run import run_scenario
from hil.scenario.loader import load_scenario
from hil.steps.kinds.forge_token import ForgeToken
from hil.targets.registry import choose
from server.speech.pipeline import SpeechPipeline
from tests.hil.conftest import WriteFile

KEY = b"k" * 32
NOW = 1_800_000_000
CLAIMS: dict[str, Any] = {
    "sub": "device:teddy-esp32-0001:child:child-001",
    "device_id": "teddy-esp32-0001",
    "child_id": "child-001",
    "session_id": "3f1c2b9e-8d7a-4e61-b0c4-5a2f9e7d1c30",
    "type": "device_access",
    "aud": "teddy-api",
    "iss": "teddy-device-system",
    "iat": NOW,
    "exp": NOW + 3600,
    "jti": "5b0e7d1c-2f6a-4c1e-9a51-8e3f0c9d2b47",
}
TOKEN = jwt.encode(CLAIMS, KEY, algorithm="HS256")


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    head, body, sig = token.split(".")
    return json.loads(_unpad(head)), json.loads(_unpad(body)), sig


def _unpad(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.mark.unit
@pytest.mark.parametrize("spelling", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_spelling_has_no_signature(spelling: str) -> None:
    forged = jws.forge(TOKEN, jws.Forgery(alg=spelling, signature=jws.NONE), now=NOW)
    header, claims, sig = _parts(forged)
    assert header == {"alg": spelling, "typ": "JWT"}
    assert claims == CLAIMS and sig == "" and forged.endswith(".")


@pytest.mark.unit
@pytest.mark.filterwarnings("ignore:The HMAC key is")  # short keys: the point of a guess
@pytest.mark.parametrize("key", [b"secret", b"", b"fallback-secret"])
def test_a_guessed_key_signs_with_that_key(key: bytes) -> None:
    forged = jws.forge(TOKEN, jws.Forgery(alg="HS256", key=key), now=NOW)
    signing_input, _, sig = forged.rpartition(".")
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    assert sig == jws.b64url(mac)
    if key:  # PyJWT refuses the empty key outright
        assert jwt.decode(forged, key, algorithms=["HS256"], audience="teddy-api", leeway=10**9)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, KEY, algorithms=["HS256"], audience="teddy-api")


@pytest.mark.unit
def test_resigned_with_the_right_key_unchanged_is_the_same_token() -> None:
    assert jws.forge(TOKEN, jws.Forgery(key=KEY), now=NOW) == TOKEN


@pytest.mark.unit
def test_tampered_payload_keeps_the_original_signature() -> None:
    forgery = jws.Forgery(claims={"device_id": "teddy-esp32-0002"}, signature=jws.ORIGINAL)
    forged = jws.forge(TOKEN, forgery, now=NOW)
    assert forged.split(".")[2] == TOKEN.split(".")[2]
    assert _unverified(forged)["device_id"] == "teddy-esp32-0002"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, KEY, algorithms=["HS256"], audience="teddy-api")


@pytest.mark.unit
@pytest.mark.parametrize("alg", ["RS256", "PS384", "ES256", "ES512", "HS512"])
def test_other_algorithms_are_signed_for_real(alg: str) -> None:
    forged = jws.forge(TOKEN, jws.Forgery(alg=alg, key=KEY * 2), now=NOW)
    header, _, sig = _parts(forged)
    assert header["alg"] == alg
    assert len(base64.urlsafe_b64decode(sig + "==")) >= 64


@pytest.mark.unit
def test_claims_set_relative_times_drop_and_header_members() -> None:
    forgery = jws.Forgery(
        header={"kid": "forger", "typ": None},
        claims={"exp": "-60s", "nbf": "+1h", "iat": "now+5m", "aud": ["teddy-api", "x"]},
        drop=("jti",),
        key=KEY,
    )
    header, claims, _ = _parts(jws.forge(TOKEN, forgery, now=NOW))
    assert header == {"alg": "HS256", "kid": "forger"}
    assert (claims["exp"], claims["nbf"], claims["iat"]) == (NOW - 60, NOW + 3600, NOW + 300)
    assert claims["aud"] == ["teddy-api", "x"] and "jti" not in claims
    assert list(claims)[:3] == ["sub", "device_id", "child_id"]  # order kept


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("not-a-jwt", "1 part"),
        ("a.b", "2 part"),
        ("!!!.e30.", "header is not"),
        (f"{jws.b64url(b'[1]')}.e30.", "header is not a JSON object"),
    ],
)
@pytest.mark.unit
def test_what_is_not_a_jws_is_refused(token: str, problem: str) -> None:
    with pytest.raises(jws.ForgeError, match=re.escape(problem)):
        jws.decode(token)


@pytest.mark.unit
def test_dropping_a_claim_the_token_lacks_is_an_error() -> None:
    with pytest.raises(jws.ForgeError, match="no 'nbf' claim"):
        jws.forge(TOKEN, jws.Forgery(drop=("nbf",), key=KEY), now=NOW)


HEAD = "version: 1\nname: t\ndescription: d\nvars: {t: x}\nsteps:\n"


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ("{from: '${t}', save: f, alg: nOnE, signature: sign}", "has no signature to make"),
        ("{from: '${t}', save: f, alg: HS256}", "HS256 needs key"),
        ("{from: '${t}', save: f}", "the original alg needs key"),
        ("{from: '${t}', save: f, alg: HS257, key: k}", "cannot sign with alg 'HS257'"),
        ("{from: '${t}', save: f, alg: RS256, key: k}", "leave out key and server_key"),
        ("{from: '${t}', save: f, key: k, server_key: true}", "give key or server_key"),
        ("{from: '${t}', save: f, alg: none, key: k}", "only used with signature: sign"),
        ("{from: '${t}', save: f, key: k, set: {exp: soon}}", "exp 'soon' is not a time"),
        ("{from: '${t}', save: f, key: k, set: {exp: 1}, drop: [exp]}", "both set and dropped"),
        ("{from: '${t}', save: f, key: k, header: {alg: x}}", "write the header's alg as alg:"),
        ("{from: '${t}', save: 'no good', key: k}", "is not text matching"),
        ("{from: '${t}', key: k}", "lacks required key(s): save"),
        ("{from: '${t}', save: f, key: k, signature: maybe}", "maybe"),
    ],
)
@pytest.mark.unit
def test_bad_forgeries_are_refused_at_load(write: WriteFile, step: str, problem: str) -> None:
    path = write("x.yaml", f"{HEAD}  - forge_token: {step}\n")
    with pytest.raises(ScenarioLoadError, match=re.escape(problem)) as info:
        load_scenario(path)
    assert info.value.problems[0].line == 6


@pytest.mark.unit
def test_the_saved_variable_is_known_to_later_steps_and_server_key_needs_files(
    write: WriteFile,
) -> None:
    path: Path = write(
        "x.yaml",
        f"{HEAD}  - forge_token: {{from: '${{t}}', save: f, server_key: true, set: {{exp: -1m}}}}\n"
        "  - http: {path: /a, headers: {Authorization: 'Bearer ${f}'}}\n",
    )
    scenario = load_scenario(path)
    action = scenario.steps[0].action
    assert isinstance(action, ForgeToken)
    assert action.captures() == ("f",) and "server_files" in scenario.needs()


@pytest.mark.emu
async def test_a_step_with_no_token_to_forge_from_fails_and_a_good_one_saves(
    write: WriteFile, pipeline: SpeechPipeline, tmp_path: Path
) -> None:
    good = write(
        "good.yaml",
        f"version: 1\nname: t\ndescription: d\nvars: {{t: '{TOKEN}'}}\nsteps:\n"
        "  - forge_token: {from: '${t}', save: f, alg: none}\n",
    )
    bad = write("bad.yaml", f"{HEAD}  - forge_token: {{from: '${{t}}', save: f, key: k}}\n")
    emulator = choose("emulator")
    saved = await run_scenario(
        load_scenario(good), target=emulator, artifact_dir=tmp_path / "good", pipeline=pipeline
    )
    assert saved.status is Status.PASSED, saved.detail
    assert _parts(str(saved.variables["f"]))[0]["alg"] == "none"
    failed = await run_scenario(
        load_scenario(bad), target=emulator, artifact_dir=tmp_path / "bad", pipeline=pipeline
    )
    assert failed.status is Status.FAILED
    assert (
        failed.reason == "forge_token: not a JWS compact token (header.payload.signature):"
        " 1 part(s) in 'x'"
    )
