"""Decode Lago HTTP responses and turn error responses into `LagoError`s."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from portal.lago.errors import (
    LagoAuthError,
    LagoBadRequest,
    LagoError,
    LagoFeatureUnavailable,
    LagoForbidden,
    LagoNotAllowed,
    LagoNotFound,
    LagoNotLagoAPI,
    LagoRateLimited,
    LagoServerError,
    LagoUnexpectedResponse,
    LagoValidationError,
)

SNIPPET_CHARS = 200
MAX_LISTED_PROBLEMS = 5
PREMIUM_CODES = frozenset({"feature_unavailable", "premium_integration_missing"})
PERMISSION_CODE = re.compile(r"^(read|write)_action_not_allowed_for_([a-z_]+)$")

# Lago validation codes with a readable phrase; anything else is spelled out from the code.
PHRASES = {
    "value_is_mandatory": "is required",
    "value_already_exist": "is already used",
    "value_already_exists": "is already used",
    "invalid_value": "is not valid",
    "value_is_invalid": "is not valid",
    "invalid_format": "has an invalid format",
    "invalid_email_format": "is not a valid email address",
    "url_is_invalid": "is not a valid URL",
    "invalid_url": "is not a valid URL",
    "value_is_out_of_range": "is out of range",
    "invalid_date": "is not a valid date",
    "invalid_timezone": "is not a valid time zone",
    "invalid_currency": "is not a valid currency",
    "invalid_country": "is not a valid country",
    "value_is_too_long": "is too long",
    "too_long": "is too long",
}


def humanize(code: str) -> str:
    """`external_customer_id` becomes `external customer ID`."""
    words = [("ID" if w == "id" else "URL" if w == "url" else w) for w in code.split("_")]
    return " ".join(w for w in words if w)


def _field_label(key: str) -> str:
    if key.isdigit():
        return f"item {int(key) + 1}"
    return "" if key == "base" else humanize(key)


def _problems(details: Mapping[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in details.items():
        label = " ".join(p for p in (prefix, _field_label(str(key))) if p)
        if isinstance(value, Mapping):
            out.extend(_problems(value, label))
            continue
        for code in value if isinstance(value, list) else [value]:
            code = str(code)
            phrase = PHRASES.get(code)
            if phrase is None:
                out.append(f"{label}: {humanize(code)}" if label else humanize(code))
            else:
                out.append(f"{label} {phrase}" if label else phrase)
    return out


def describe_validation(details: Mapping[str, Any]) -> str:
    """One sentence listing the problems in a Lago `error_details` object."""
    problems = _problems(details)
    if not problems:
        return "Lago did not accept the data."
    shown = problems[:MAX_LISTED_PROBLEMS]
    sentence = "; ".join(shown)
    extra = len(problems) - len(shown)
    if extra:
        sentence += f"; and {extra} more problem{'s' if extra > 1 else ''}"
    return f"Lago did not accept the data: {sentence}."


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _snippet(response: httpx.Response) -> str:
    return response.content[:SNIPPET_CHARS].decode("utf-8", "replace")


def _looks_like_html(response: httpx.Response) -> bool:
    if "html" in _content_type(response):
        return True
    return response.content.lstrip()[:1] == b"<"


def _not_lago(response: httpx.Response, message: str | None = None) -> LagoNotLagoAPI:
    return LagoNotLagoAPI(
        message,
        status=response.status_code,
        details={"content_type": _content_type(response), "body": _snippet(response)},
    )


def parse_json(response: httpx.Response) -> Any:
    """The decoded body, `None` if empty; raise if it is not JSON at all."""
    if not response.content.strip():
        return None
    if _looks_like_html(response):
        raise _not_lago(response, "The Lago URL answered with a web page, not the Lago API.")
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        if "json" in _content_type(response):
            raise LagoUnexpectedResponse(
                "Lago sent a broken answer.",
                status=response.status_code,
                details={"body": _snippet(response)},
            ) from exc
        raise _not_lago(response) from exc


def retry_after_seconds(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Seconds to wait from `X-RateLimit-Reset` (or `Retry-After`), when given as a number."""
    for name in ("x-ratelimit-reset", "retry-after"):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw.strip())
        except ValueError:
            continue
        if not math.isfinite(value):
            continue
        if value > 1_000_000_000:  # an absolute Unix time rather than a delay
            value -= time.time() if now is None else now
        return max(value, 0.0)
    return None


def _lago_error_body(body: Any) -> dict[str, Any] | None:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body
    return None


def _redirect_error(response: httpx.Response) -> LagoNotLagoAPI:
    location = response.headers.get("location", "")
    try:
        target = urlsplit(str(response.url.join(location))) if location else None
    except (httpx.InvalidURL, ValueError):
        target = None
    hint = None
    if target and target.scheme in ("http", "https") and target.netloc:
        hint = f"Lago does not redirect; use the final address instead: {target.scheme}://{target.netloc}"
    return LagoNotLagoAPI(
        "The Lago URL redirects to another address.",
        hint=hint,
        status=response.status_code,
        details={"location": location},
    )


def error_for_response(response: httpx.Response) -> LagoError:
    """Map a non-2xx response to the matching `LagoError` subclass."""
    status = response.status_code
    if 300 <= status < 400:
        return _redirect_error(response)
    try:
        body = parse_json(response)
    except LagoError as exc:
        if status == 429 or status >= 500:
            body = None  # a proxy's error page still means "busy" or "down"
        else:
            return exc
    lago = _lago_error_body(body)
    code = lago.get("code") if lago else None
    code = code if isinstance(code, str) else None
    details = lago.get("error_details") if lago else None
    details = details if isinstance(details, dict) else {}
    if status == 429:
        message = None
        if code == "too_many_provider_requests":
            message = "The payment provider is receiving too many requests right now."
        return LagoRateLimited(
            message,
            retry_after=retry_after_seconds(response.headers),
            status=status,
            code=code,
            details=details,
        )
    if status >= 500:
        return _server_error(status, code, body)
    if lago is None:
        return _not_lago(
            response, "The Lago URL answered with an error that does not come from Lago."
        )
    return _client_error(status, code, details, lago)


def _server_error(status: int, code: str | None, body: Any) -> LagoServerError:
    if status in (502, 503, 504):
        return LagoServerError("Lago is temporarily unavailable.", status=status, code=code)
    if isinstance(body, dict) and body.get("message") == "Unhealthy":
        return LagoServerError(
            "Lago is running but reports that it is unhealthy.",
            hint="Check the Lago server logs, its database and its Redis.",
            status=status,
        )
    return LagoServerError(status=status, code=code)


def _client_error(
    status: int, code: str | None, details: dict[str, Any], body: dict[str, Any]
) -> LagoError:
    common: dict[str, Any] = {"status": status, "code": code, "details": details}
    if status == 400:
        return LagoBadRequest(**{**common, "details": {"error": body.get("error")}})
    if status == 401:
        return LagoAuthError(**common)
    if status == 403:
        return _forbidden(code, common)
    if status == 404:
        return _not_found(code, common)
    if status == 405:
        if code in PREMIUM_CODES:
            return LagoFeatureUnavailable(**common)
        reason = f" ({humanize(code)})" if code else ""
        return LagoNotAllowed(f"Lago cannot do this in the current state{reason}.", **common)
    if status == 422:
        return _unprocessable(code, details, common)
    return LagoUnexpectedResponse(
        f"Lago answered with an unexpected status (HTTP {status}).", **common
    )


def _forbidden(code: str | None, common: dict[str, Any]) -> LagoError:
    if code and (code in PREMIUM_CODES or code.endswith("_not_enabled")):
        return LagoFeatureUnavailable(**common)
    match = PERMISSION_CODE.match(code or "")
    if match:
        mode, resource = match.groups()
        verb = "read" if mode == "read" else "change"
        return LagoForbidden(
            f"The Lago API key is not allowed to {verb} {humanize(resource)}s.",
            hint=f"In Lago › Developers › API keys, give this key {mode} access to "
            f"{humanize(resource)}, or use a key with full access.",
            **common,
        )
    return LagoForbidden(**common)


def _not_found(code: str | None, common: dict[str, Any]) -> LagoNotFound:
    if code == "resource_not_found":
        return LagoNotFound(
            "Lago does not offer this operation.",
            hint="Check that the URL points at the Lago API and that Lago is up to date.",
            **common,
        )
    if code and code.endswith("_not_found"):
        thing = humanize(code.removesuffix("_not_found"))
        return LagoNotFound(f"Lago could not find this {thing}.", **common)
    return LagoNotFound(**common)


def _unprocessable(code: str | None, details: dict[str, Any], common: dict[str, Any]) -> LagoError:
    if code == "provider_error":
        return LagoValidationError(
            "The payment provider refused the request.",
            hint="Check the details in the payment provider's dashboard.",
            **common,
        )
    if code == "third_party_error":
        service = details.get("third_party")
        name = service if isinstance(service, str) and service else "An external service"
        return LagoValidationError(
            f"{name} refused the request.",
            hint="Check the details in that service, then try again.",
            **common,
        )
    if code in (None, "validation_errors") or details:
        return LagoValidationError(describe_validation(details), **common)
    return LagoValidationError(f"Lago did not accept the request: {humanize(code)}.", **common)
