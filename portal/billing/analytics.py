"""Platform figures from Lago, cached briefly because they are live by nature."""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError

from portal.billing.connection import get_connection, lago_client
from portal.extensions import redis_connection, redis_key
from portal.models import utcnow

MRR_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Mrr:
    """This month's MRR and when it was read."""

    amount_cents: int
    currency: str
    as_of: datetime


def _read(key: str) -> Mrr | None:
    try:
        cached = redis_connection().get(redis_key("cache", key))
    except RedisError:
        return None
    if not cached:
        return None
    data = json.loads(cached)
    return Mrr(data["amount_cents"], data["currency"], datetime.fromisoformat(data["as_of"]))


def last_known_mrr() -> Mrr | None:
    """The last MRR Lago gave, however old, to show while Lago does not answer."""
    return _read("mrr_last_known")


def current_mrr() -> Mrr:
    """The latest month's MRR from Lago's analytics (raises LagoError / NotConnected)."""
    cached = _read("mrr")
    if cached:
        return cached
    connection = get_connection()
    currency = connection.organization_currency if connection else None
    points = lago_client().get_mrr(currency=currency, months=1)
    latest = max(points, key=lambda p: p.month or utcnow(), default=None)
    mrr = Mrr(
        (latest.amount_cents if latest else None) or 0,
        (latest.currency if latest else None) or currency or "USD",
        utcnow(),
    )
    data = json.dumps(
        {"amount_cents": mrr.amount_cents, "currency": mrr.currency, "as_of": mrr.as_of.isoformat()}
    )
    with suppress(RedisError):
        pipe = redis_connection().pipeline()
        pipe.setex(redis_key("cache", "mrr"), MRR_CACHE_SECONDS, data)
        pipe.set(redis_key("cache", "mrr_last_known"), data)
        pipe.execute()
    return mrr
