"""One module per Lago resource; shared request helpers and the object registry live here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import request

from .. import errors
from ..state import Standin

# object_type -> finder(standin, identifier) returning the serialized object, for test triggers.
OBJECT_FINDERS: dict[str, Callable[[Standin, str], dict | None]] = {}

EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


def register_object(object_type: str) -> Callable:
    """Register how to find and serialize an object by id, external id or code."""

    def decorate(finder: Callable[[Standin, str], dict | None]) -> Callable:
        OBJECT_FINDERS[object_type] = finder
        return finder

    return decorate


def json_body() -> dict[str, Any]:
    """The request's JSON object (an empty body counts as {})."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise errors.bad_request(f"Error occurred while parsing request parameters: {exc}") from exc
    return data if isinstance(data, dict) else {}


def require(root: str) -> dict[str, Any]:
    """`params.require(root)`: the root object, or 400 when missing or empty."""
    value = json_body().get(root)
    if not isinstance(value, dict) or not value:
        raise errors.missing_param(root)
    return value


class Problems:
    """Collects `field -> [error codes]` and raises one 422 with all of them."""

    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, field: str, code: str) -> None:
        """Record one error code for a field."""
        self.details.setdefault(field, []).append(code)

    def raise_if_any(self) -> None:
        """Raise the 422 when anything was recorded."""
        if self.details:
            raise errors.validation_errors(self.details)


def blank(value: Any) -> bool:
    """Rails' `blank?` for JSON values."""
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return value is None


def valid_email_list(value: str) -> bool:
    """Lago accepts one or several comma-separated email addresses."""
    return all(EMAIL_RE.match(part.strip()) for part in value.split(","))
