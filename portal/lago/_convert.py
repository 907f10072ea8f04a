"""Strict little converters from Lago JSON values to Python values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def to_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime (naive values are taken as UTC)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date-time string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_date(value: Any) -> date | None:
    """An ISO 8601 date (a date-time is cut to its UTC date)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    if len(value) == 10:
        return date.fromisoformat(value)
    moment = to_datetime(value)
    return moment.date() if moment else None


def to_cents(value: Any) -> int:
    """An integer amount in cents; integral floats and digit strings are accepted."""
    if isinstance(value, bool):
        raise ValueError("expected an amount in cents, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"expected an amount in cents, got {value!r}")


def to_cents_or_none(value: Any) -> int | None:
    """Like `to_cents`, but `None` stays `None`."""
    return None if value is None else to_cents(value)


def to_decimal(value: Any, default: str | None = "0") -> Decimal | None:
    """A decimal from Lago's string or number amounts (credits, units, rates)."""
    if value is None or value == "":
        return None if default is None else Decimal(default)
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"expected a number, got {value!r}") from exc


def to_str(value: Any) -> str | None:
    """A string, `None` for null or empty."""
    if value is None or value == "":
        return None
    return str(value)


def to_bool(value: Any) -> bool:
    """A boolean; null counts as false."""
    return bool(value) if value is not None else False


def mapping(value: Any) -> dict[str, Any]:
    """A shallow copy of a JSON object, `{}` for anything else."""
    return dict(value) if isinstance(value, Mapping) else {}


def objects(value: Any) -> list[Mapping[str, Any]]:
    """The JSON objects in a list, ignoring nulls and other junk."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def strings(value: Any) -> tuple[str, ...]:
    """A tuple of strings from a JSON list."""
    if not isinstance(value, list):
        return ()
    return tuple(str(item) for item in value if item is not None)
