"""Reading the API's JSON bodies and query values; problems are collected per field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import request

from portal.api.replies import ApiError
from portal.validation import is_timezone, normalise_email

CURRENCY = re.compile(r"[A-Z]{3}")
METADATA_KEY = re.compile(r"[A-Za-z0-9_.-]{1,20}")
# Lago keeps 5 metadata per customer; Pier always sends billing_type and created_by.
METADATA_MAX_KEYS = 3
METADATA_PIER_KEYS = {"billing_type"}
METADATA_RESERVED = {"created_by"}
METADATA_MAX_VALUE = 100


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or 400/415."""
    if not request.is_json:
        raise ApiError(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, message="The body must be a JSON object.")
    return body


class Fields:
    """Read fields of one JSON object; `done()` raises 422 with every problem at once."""

    def __init__(self, body: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
        self.body = body
        self.prefix = prefix
        self.problems: dict[str, list[str]] = {}
        for name in sorted(set(body) - allowed):
            self.add(name, "is not a known field")

    def add(self, name: str, message: str) -> None:
        self.problems.setdefault(self.prefix + name, []).append(message)

    def present(self, name: str) -> bool:
        return name in self.body

    def text(self, name: str, *, required: bool = False, max_length: int = 255) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.add(name, "is required")
            return None
        if not isinstance(value, str):
            self.add(name, "must be a string")
            return None
        value = value.strip()
        if "\x00" in value:
            self.add(name, "must not contain NUL characters")
            return None
        if required and not value:
            self.add(name, "must not be blank")
            return None
        if len(value) > max_length:
            self.add(name, f"must be at most {max_length} characters")
            return None
        return value or None

    def email(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required, max_length=254)
        if value is None:
            return None
        try:
            return normalise_email(value)
        except ValueError:
            self.add(name, "must be an email address")
            return None

    def timezone(self, name: str) -> str | None:
        value = self.text(name, max_length=64)
        if value is not None and not is_timezone(value):
            self.add(name, "must be an IANA time zone such as Europe/Paris")
            return None
        return value

    def currency(self, name: str) -> str | None:
        value = self.text(name, max_length=3)
        if value is not None and not CURRENCY.fullmatch(value):
            self.add(name, "must be a three-letter ISO 4217 code in capitals")
            return None
        return value

    def metadata(self, name: str) -> dict[str, str] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.add(name, "must be an object of strings")
            return None
        if len(set(value) - METADATA_PIER_KEYS) > METADATA_MAX_KEYS:
            self.add(name, f"holds at most {METADATA_MAX_KEYS} keys besides billing_type")
            return None
        if set(value) & METADATA_RESERVED:
            self.add(name, "created_by is set by Pier")
            return None
        for key, item in value.items():
            if not METADATA_KEY.fullmatch(key):
                self.add(name, "keys are 1 to 20 letters, digits, '_', '.' or '-'")
                return None
            if not isinstance(item, str) or not 0 < len(item) <= METADATA_MAX_VALUE:
                self.add(name, f"values are strings of 1 to {METADATA_MAX_VALUE} characters")
                return None
            if "\x00" in item:
                self.add(name, "values must not contain NUL characters")
                return None
        return dict(value)

    def properties(self, name: str) -> dict[str, Any]:
        value = self.body.get(name, {})
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(name, "must be an object")
            return {}
        if "\x00" in str(value):
            self.add(name, "must not contain NUL characters")
            return {}
        return value

    def moment(self, name: str, default: datetime) -> datetime:
        """An ISO 8601 time with an offset, or Unix seconds."""
        value = self.body.get(name)
        if value is None:
            return default
        moment = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                moment = datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                moment = None
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                moment = parsed.astimezone(UTC)
        if moment is None or not 2000 <= moment.year <= 2100:
            self.add(name, "must be an ISO 8601 time with an offset, or Unix seconds")
            return default
        return moment

    def decimal(self, name: str) -> str | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.add(name, "must be a number")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= 10**15:
            self.add(name, "must be a finite number")
            return None
        return str(number)

    def done(self) -> None:
        if self.problems:
            raise ApiError(422, details=self.problems)


def page_size(default: int = 50, largest: int = 100) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= largest:
        raise ApiError(422, details={"limit": [f"must be a whole number from 1 to {largest}"]})
    return int(raw)
