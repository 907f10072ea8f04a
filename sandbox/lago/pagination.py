"""Lago's list pagination: `page` / `per_page` in, `{<collection>: [...], "meta": {...}}` out."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import errors

PER_PAGE = 100
KAMINARI_DEFAULT_PER_PAGE = 25


def ruby_to_i(value: Any) -> int:
    """Ruby's `String#to_i`: leading integer digits, else 0."""
    if value is None:
        return 0
    match = re.match(r"\s*([+-]?\d+)", str(value))
    return int(match.group(1)) if match else 0


def page_and_limit(args: Mapping[str, Any]) -> tuple[int, int]:
    """The page number and page size lago-api (Kaminari) derives from the query string."""
    page = max(ruby_to_i(args.get("page")), 1)
    raw = args.get("per_page")
    if raw is None or raw == "":
        return page, PER_PAGE
    text = str(raw)
    limit = ruby_to_i(text)
    if limit < 0 or not re.match(r"\d", text):
        return page, KAMINARI_DEFAULT_PER_PAGE
    return page, limit


def meta(total_count: int, page: int, limit: int) -> dict[str, Any]:
    """`meta` as lago-api builds it; with no records everything is 0 or null."""
    if total_count <= 0:
        return {
            "current_page": 0,
            "next_page": None,
            "prev_page": None,
            "total_pages": 0,
            "total_count": 0,
        }
    if limit == 0:
        raise errors.internal_error()
    total_pages = math.ceil(total_count / limit)
    return {
        "current_page": page,
        "next_page": page + 1 if page < total_pages else None,
        "prev_page": page - 1 if page > 1 else None,
        "total_pages": total_pages,
        "total_count": total_count,
    }


def collection(
    name: str,
    items: Sequence[Any],
    serialize: Callable[[Any], dict],
    args: Mapping[str, Any],
) -> dict[str, Any]:
    """One page of `items`, serialized, under `name`, with `meta`."""
    page, limit = page_and_limit(args)
    start = (page - 1) * limit
    chosen = items[start : start + limit]
    return {name: [serialize(item) for item in chosen], "meta": meta(len(items), page, limit)}
