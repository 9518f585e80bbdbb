"""The one HTTP error body of SPEC §1.2: `{"error": {code, message, details?, correlation_id}}`.

Owns `ErrorBody` (what servers write). What devices read back (they key their behaviour
on the status and `error.code` only, SPEC §1.2, and must survive a body that is not this
shape, e.g. from a proxy) is `protocol.server_answer.server_error` (SPEC §8.4);
`error_code_of` is its code. The WebSocket handshake refusal of SPEC §6.1 uses the same
body with status 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.server_answer import server_error


@dataclass(frozen=True)
class ErrorDetail:
    """One `details[]` entry: the dotted field path and why it was refused.

    `reason` is a `protocol.errors.FieldReason`, or the web framework's text for a bad
    query parameter (SPEC §1.2), so it is a plain string here.
    """

    field: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class ErrorBody:
    """An HTTP error response body; `details` only for 422 field errors."""

    code: str
    message: str
    correlation_id: str
    details: Sequence[ErrorDetail] = ()

    def to_json(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = [d.to_json() for d in self.details]
        error["correlation_id"] = self.correlation_id
        return {"error": error}


def error_code_of(body: bytes, *, status: int) -> str:
    """The `error.code` of `body`, else `http_<status>` (a body of another shape)."""
    return server_error(status, body).code
