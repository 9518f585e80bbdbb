"""Exception root of the reference server and the one HTTP error body (SPEC §1.2).

Every refusal the server makes is an :class:`ApiError`; the app turns it into
``{"error": {"code", "message", "details"?, "correlation_id"}}`` so that clients,
scenarios and the firmware parse exactly one shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from protocol.error_body import ErrorBody, ErrorDetail

# One invalid request field (SPEC §1.2 ``details`` entry): the protocol's own model.
FieldProblem = ErrorDetail


class ServerError(Exception):
    """Root of every exception raised by the ``server`` package."""


@dataclass
class ApiError(ServerError):
    """An HTTP refusal with the status, code and message SPEC names."""

    status: int
    code: str
    message: str
    details: Sequence[FieldProblem] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def body(self, *, correlation_id: str) -> dict[str, object]:
        return ErrorBody(self.code, self.message, correlation_id, self.details).to_json()


class ConfigurationError(ServerError):
    """The server was started or provisioned with settings it cannot use."""


class ReleaseError(ServerError):
    """A firmware image could not be published as a release."""
