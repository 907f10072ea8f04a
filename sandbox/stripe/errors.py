"""Stripe's error replies: `{"error": {type, code, message, param, ...}}` with a status."""

from __future__ import annotations

import re
from typing import Any

DOCS = "https://stripe.com/docs"
SUPPORT = "https://support.stripe.com/"
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Request Failed",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
# Object type -> how "No such ..." messages name it.
NAMES = {
    "customer": "customer",
    "payment_method": "PaymentMethod",
    "setup_intent": "setupintent",
    "event": "event",
    "webhook_endpoint": "webhook endpoint",
}


class StripeError(Exception):
    """An error answered with Stripe's error body and status."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.status = status
        self.error = error

    def body(self) -> dict[str, Any]:
        """The JSON reply."""
        return {"error": self.error}


def error(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    **extra: Any,
) -> StripeError:
    """An error with Stripe's fields; `doc_url` is added for codes."""
    fields: dict[str, Any] = {"message": message, "type": type}
    if code is not None:
        fields["code"] = code
        fields["doc_url"] = f"{DOCS}/error-codes/{code.replace('_', '-')}"
    if param is not None:
        fields["param"] = param
    fields.update(extra)
    return StripeError(status, fields)


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """400 invalid_request_error."""
    return error(400, message, code=code, param=param)


def no_such(kind: str, object_id: str, *, param: str = "id", status: int = 404) -> StripeError:
    """`No such customer: 'cus_x'` (404 for the URL's object, 400 for a parameter)."""
    name = NAMES.get(kind, kind)
    return error(status, f"No such {name}: '{object_id}'", code="resource_missing", param=param)


def unknown_param(name: str) -> StripeError:
    """400 parameter_unknown."""
    return invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")


def missing_param(name: str) -> StripeError:
    """400 parameter_missing."""
    return invalid(f"Missing required param: {name}.", name, "parameter_missing")


def not_in_sandbox(name: str) -> StripeError:
    """400 for a real Stripe parameter the stand-in does not model, so gaps are never silent."""
    return error(
        400,
        f"The Stripe stand-in does not support the parameter '{name}' yet (Stripe does).",
        code="not_implemented_in_sandbox",
        param=name,
    )


def route_not_in_sandbox(method: str, path: str) -> StripeError:
    """501 for a Stripe route the stand-in does not serve yet."""
    return error(
        501,
        f"The Stripe stand-in does not serve {method} {path} yet (Stripe does).",
        type="api_error",
        code="not_implemented_in_sandbox",
    )


def exclusive(*names: str) -> StripeError:
    """400 parameters_exclusive."""
    listed = ", ".join(names)
    return invalid(
        f"You may only specify one of these parameters: {listed}.", names[0], "parameters_exclusive"
    )


def unexpected_state(message: str, **extra: Any) -> StripeError:
    """400 setup_intent_unexpected_state."""
    return error(400, message, code="setup_intent_unexpected_state", **extra)


def no_api_key() -> StripeError:
    """401 when no key was sent."""
    return error(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). "
        f"See {DOCS}/api#authentication for details, or we can help at {SUPPORT}.",
    )


def bad_api_key(key: str) -> StripeError:
    """401 for a key that is not this account's; only its last four characters are shown."""
    match = re.match(r"^[a-z]{2}_(?:test|live)_", key)
    shown = match.group(0) if match else ""
    rest = key[len(shown) :]
    masked = shown + "*" * max(len(rest) - 4, 0) + rest[-4:]
    return error(401, f"Invalid API Key provided: {masked}")


def publishable_key_not_allowed() -> StripeError:
    """401 when a publishable key calls a secret-key-only route."""
    return error(
        401,
        "This API call cannot be made with a publishable API key. Please use a secret API key.",
    )


def unrecognized_url(method: str, path: str) -> StripeError:
    """404 for a route Stripe does not have (or the stand-in does not serve)."""
    return error(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see {DOCS} or we can help at "
        f"{SUPPORT}.",
    )


def api_error(status: int = 500) -> StripeError:
    """5xx api_error."""
    return error(status, "An unknown error occurred", type="api_error")


def rate_limited() -> StripeError:
    """429 rate_limit."""
    return error(
        429,
        "Too many requests hit the API too quickly. We recommend an exponential backoff of your "
        "requests.",
        code="rate_limit",
    )


def for_status(status: int) -> StripeError:
    """A plausible error for any status (used by fault injection)."""
    if status == 429:
        return rate_limited()
    if status >= 500:
        return api_error(status)
    if status == 401:
        return bad_api_key("sk_test_injected")
    return error(status, f"Injected error ({status})")
