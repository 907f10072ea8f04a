"""The API's answers: JSON bodies, and every error in one shape
`{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

STATUS_CODES = {
    400: ("bad_request", "The request could not be read."),
    401: ("unauthorized", "Send a valid API token as `Authorization: Bearer <token>`."),
    403: ("forbidden", "This token may not do that."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    409: ("conflict", "This conflicts with what Pier already holds."),
    413: ("payload_too_large", "The request body is larger than Pier accepts."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    422: ("validation_failed", "Some values are not acceptable."),
    429: ("rate_limited", "Too many requests with this token; slow down and try again."),
    500: ("internal_error", "Pier hit an unexpected problem; it has been logged."),
    503: ("unavailable", "Pier cannot answer this right now; try again in a minute."),
}


class ApiError(Exception):
    """An error the API answers in its JSON shape."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        default_code, default_message = STATUS_CODES.get(status, STATUS_CODES[500])
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.details = details or {}
        super().__init__(self.message)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_response(error: ApiError, headers: dict[str, str] | None = None):
    body = {
        "error": {"code": error.code, "message": error.message, "details": error.details},
    }
    response = jsonify(body)
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="pier"'
    response.headers["X-Request-ID"] = g.get("request_id", "")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def for_status(status: int, headers: dict[str, str] | None = None):
    """The JSON error for an HTTP status raised outside the API's own checks."""
    return error_response(ApiError(status if status in STATUS_CODES else 500), headers)
