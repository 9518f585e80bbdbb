"""OpenAPI documentation of the SPEC §1 endpoints: request bodies, headers, every status.

FastAPI derives paths and query parameters from the routes, but the routes read their
bodies themselves (`json_body`: the SPEC §1.1 strictness and limits), so the request bodies,
the `Range`/`If-None-Match` headers and the statuses each endpoint can answer are declared
here, from the protocol's constants, and passed to the route decorators. Every error status
has the SPEC §1.2 body. The schema is served at `/openapi.json` (SPEC §1, informative) and
the hostile-input tier (`tests/server/test_schema_fuzz.py`, schemathesis) holds the server
to it: no 5xx, no undocumented status, no body that does not match.
"""

from __future__ import annotations

from typing import Any, Final

from protocol import constants as c

_JSON: Final = "application/json"

ERROR_BODY: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "correlation_id"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string"},
                "correlation_id": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason"],
                        "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        }
    },
}

# Why each status is answered (SPEC §1.2's table, shortened).
_WHY: Final = {
    304: "not modified (If-None-Match matched the ETag)",
    400: "malformed_json: the body is not a JSON object",
    401: "invalid_signature, stale_timestamp, invalid_token or refresh_token_reused",
    403: "device_disabled or consent_required",
    404: "not_found, device_not_found, child_not_found or no_release",
    409: "nonce_reused",
    413: "payload_too_large: the body is over 65,536 bytes",
    416: "range_not_satisfiable",
    422: "invalid_request: a field or query parameter is invalid (details)",
    429: "rate_limited (Retry-After)",
}


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"  # JSON Schema patterns search; protocol patterns fullmatch


def _id(min_len: int, max_len: int) -> dict[str, Any]:
    pattern = _anchored(c.ID_PATTERN.pattern)
    return {"type": "string", "minLength": min_len, "maxLength": max_len, "pattern": pattern}


def _hex(min_len: int, max_len: int) -> dict[str, Any]:
    """Whole bytes of hex, either case (SPEC §1.1)."""
    pattern = "^(?:[0-9a-fA-F]{2})*$"
    return {"type": "string", "minLength": min_len, "maxLength": max_len, "pattern": pattern}


CLAIM_REQUEST: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["device_id", "child_id", "nonce", "hmac_hex"],
    "properties": {
        "device_id": _id(c.DEVICE_ID_MIN_LEN, c.DEVICE_ID_MAX_LEN),
        "child_id": _id(c.CHILD_ID_MIN_LEN, c.CHILD_ID_MAX_LEN),
        "nonce": _hex(c.NONCE_MIN_HEX, c.NONCE_MAX_HEX),
        "hmac_hex": _hex(c.HMAC_HEX_LEN, c.HMAC_HEX_LEN),
        "firmware_version": {
            "type": "string",
            "minLength": 1,
            "maxLength": c.FIRMWARE_VERSION_MAX_LEN,
            "pattern": _anchored(c.FIRMWARE_VERSION_PATTERN.pattern),
        },
        "timestamp": {"type": "integer", "minimum": 0},
    },
}

REFRESH_REQUEST: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["refresh_token"],
    "properties": {"refresh_token": {"type": "string", "minLength": 1}},
}

_TOKEN_PAIR: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["access_token", "refresh_token", "token_type", "expires_in"],
}


def request_body(schema: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body itself."""
    return {"requestBody": {"required": True, "content": {_JSON: {"schema": schema}}}}


def responses(
    *statuses: int, ok: dict[str, Any] | None = None, ok_status: int = 200
) -> dict[int | str, dict[str, Any]]:
    """The documented answers: `ok` (JSON by default) and each error with its §1.2 body."""
    documented: dict[int | str, dict[str, Any]] = {
        ok_status: {
            "description": "success",
            "content": {_JSON: {"schema": ok or {"type": "object"}}},
        }
    }
    for status in statuses:
        if status == 304:
            documented[status] = {"description": _WHY[status]}
            continue
        documented[status] = {
            "description": _WHY[status],
            "content": {_JSON: {"schema": ERROR_BODY}},
        }
    return documented


CLAIM_RESPONSES: Final = responses(400, 401, 403, 404, 409, 413, 422, 429, ok=_TOKEN_PAIR)
REFRESH_RESPONSES: Final = responses(400, 401, 413, 422, ok=_TOKEN_PAIR)
CONFIG_RESPONSES: Final = responses(304)
MANIFEST_RESPONSES: Final = responses(304, 404, 422)


def image_responses() -> dict[int | str, dict[str, Any]]:
    """SPEC §5.2: the whole image, one byte range, or 404/416."""
    binary = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    documented = responses(404, 416, 422)
    documented[200] = {"description": "the whole image", "content": binary}
    documented[206] = {"description": "one byte range (Content-Range)", "content": binary}
    return documented


IMAGE_RESPONSES: Final = image_responses()
