"""Lago's error responses (status, error, code, error_details), raised as exceptions."""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class LagoError(Exception):
    """An error answered with a Lago-shaped JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


def body(status: int, error: str | None = None, code: str | None = None, **extra: Any) -> dict:
    """A Lago error body: `status` and `error`, then `code` and extras when given."""
    payload: dict[str, Any] = {"status": status, "error": error or REASONS.get(status, "Error")}
    if code is not None:
        payload["code"] = code
    payload.update(extra)
    return payload


def bad_request(message: str, **extra: Any) -> LagoError:
    """400 as lago-api renders it: `BadRequest: <message>`, no code."""
    return LagoError(400, body(400, f"BadRequest: {message}", **extra))


def missing_param(name: str) -> LagoError:
    """400 for a missing root key (Rails `ActionController::ParameterMissing`)."""
    return bad_request(f"param is missing or the value is empty or invalid: {name}")


def unauthorized() -> LagoError:
    """401 with no code."""
    return LagoError(401, body(401, "Unauthorized"))


def forbidden(code: str = "feature_unavailable") -> LagoError:
    """403 with a code."""
    return LagoError(403, body(403, "Forbidden", code))


def not_found(resource: str) -> LagoError:
    """404 with `<resource>_not_found`."""
    return LagoError(404, body(404, "Not Found", f"{resource}_not_found"))


def route_not_found() -> LagoError:
    """404 for a route lago-api does not have."""
    return LagoError(404, body(404, "Not Found", "resource_not_found"))


def not_allowed(code: str) -> LagoError:
    """405 with a code."""
    return LagoError(405, body(405, "Method Not Allowed", code))


def validation_errors(details: dict[str, list[str]]) -> LagoError:
    """422 `validation_errors` with `error_details` mapping fields to error codes."""
    return LagoError(
        422, body(422, "Unprocessable Entity", "validation_errors", error_details=details)
    )


def single_validation_error(code: str, field: str = "base") -> LagoError:
    """422 `validation_errors` with a single field and code."""
    return validation_errors({field: [code]})


def internal_error() -> LagoError:
    """500 as Rails renders an unhandled exception in API mode."""
    return LagoError(500, body(500, "Internal Server Error"))
