"""Lago's answers kept briefly in Redis, as JSON; without Redis every read goes to Lago."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from portal.extensions import redis_connection, redis_key


def remembered(
    parts: tuple[str, ...], seconds: int, read: Callable[[], Any], *, fresh: bool = False
) -> Any:
    """The JSON kept under `parts` unless `fresh`, else `read()` kept for `seconds`."""
    key = redis_key("usage", *parts)
    if not fresh:
        with contextlib.suppress(RedisError):
            cached = redis_connection().get(key)
            if cached:
                return json.loads(cached)
    found = read()
    with contextlib.suppress(RedisError):
        redis_connection().set(key, json.dumps(found), ex=seconds)
    return found
