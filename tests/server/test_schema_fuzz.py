"""The hostile-input tier: schemathesis against the reference server's own OpenAPI schema.

`/openapi.json` (SPEC §1) documents every protocol endpoint: request bodies, the Range
header, each status the endpoint can answer and the SPEC §1.2 error body. Schemathesis
generates valid and invalid requests from it (in process, through ASGI) and checks every
answer: never a 5xx, always a documented status, content type and body shape. The budget
is bounded by `max_examples` per operation so the tier stays within its share of CI.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from server.app import create_app
from server.settings import ServerSettings
from server.state import build_state
from tests.server.helpers import scripted_pipeline

pytestmark = pytest.mark.unit

EXAMPLES_PER_OPERATION = 100


def _app(data_dir: Path) -> FastAPI:
    settings_ = ServerSettings(data_dir=data_dir)
    return create_app(settings_, state=build_state(settings_, pipeline=scripted_pipeline()))


# One server for the module (schemathesis parametrizes at collection time).
APP = _app(Path(tempfile.mkdtemp(prefix="teddy-schema-fuzz-")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_schema(case: schemathesis.Case[Any]) -> None:
    case.body = _integers_as_integers(case.body)  # type: ignore[assignment]
    case.call_and_validate()


def _integers_as_integers(value: object) -> object:
    """JSON Schema's `integer` includes 7.0, SPEC §1.1 does not: send whole numbers as 7.

    None of the documented bodies has a non-integer number, so every whole float the
    generator made stands for an integer field; a fractional one is kept (and refused).
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integers_as_integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integers_as_integers(item) for item in value]
    return value
