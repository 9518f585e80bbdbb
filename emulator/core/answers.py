"""Why a request to the server failed, in the words the device's event lines use.

Owns the core's use of SPEC §8.2 "What the server said" (the reading itself is
`protocol.server_answer`, shared with the C core): a failed answer becomes a `Failure`
(HTTP status, the server's error code, its message, and for a 200 body that failed
validation the invalid field), which `claim.fail`, `token.refresh.fail`, `config.fail`
and `ota.none` print member for member; `parse_answer` decodes and validates a 200
body the way both cores do (SPEC §1.1), returning what was wrong instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from emulator.core.inputs import HttpFailed, HttpResponse
from protocol.errors import NotAnObjectError, ValidationError
from protocol.server_answer import (
    NOT_JSON,
    BadAnswer,
    bad_fields,
    decode_body,
    quote,
    server_error,
)

T = TypeVar("T")
TRANSPORT: Final = "transport"  # the `code` of a request that got no answer


@dataclass(frozen=True)
class Failure:
    """What an event reports about a failed request (SPEC §8.2)."""

    status: int  # 0: no answer (transport)
    code: str
    message: str = ""
    field: str = ""


def failure_of(answer: HttpResponse | HttpFailed) -> Failure:
    """A transport failure (its reason as the message) or an error answer (SPEC §1.2)."""
    if isinstance(answer, HttpFailed):
        return Failure(0, TRANSPORT, quote(answer.reason))
    said = server_error(answer.status, answer.body)
    return Failure(answer.status, said.code, said.message)


def bad_answer(status: int, code: str, bad: BadAnswer) -> Failure:
    """A 200 (or 304) whose body the device cannot use: `code` names the outcome."""
    return Failure(status, code, bad.message, bad.field)


def parse_answer(body: bytes, parse: Callable[[object], T]) -> T | BadAnswer:
    """`parse` applied to the decoded body, or what was wrong with it (SPEC §1.1, §8.2)."""
    try:
        doc = decode_body(body)
    except ValueError:
        return NOT_JSON
    try:
        return parse(doc)
    except ValidationError as exc:
        return bad_fields(exc.errors)


def as_object(doc: object) -> Mapping[str, object]:
    """`doc` when it is a JSON object; else NotAnObjectError (`(body): must_be_object`)."""
    if not isinstance(doc, dict):
        raise NotAnObjectError()
    return doc
