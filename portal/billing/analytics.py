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


def current_mrr() -> Mrr:
    """The latest month's MRR from Lago's analytics (raises LagoError / NotConnected)."""
    try:
        cached = redis_connection().get(redis_key("cache", "mrr"))
    except RedisError:
        cached = None
    if cached:
        data = json.loads(cached)
        return Mrr(data["amount_cents"], data["currency"], datetime.fromisoformat(data["as_of"]))
    connection = get_connection()
    currency = connection.organization_currency if connection else None
    points = lago_client().get_mrr(currency=currency, months=1)
    latest = max(points, key=lambda p: p.month or utcnow(), default=None)
    mrr = Mrr(
        (latest.amount_cents if latest else None) or 0,
        (latest.currency if latest else None) or currency or "USD",
        utcnow(),
    )
    with suppress(RedisError):
        redis_connection().setex(
            redis_key("cache", "mrr"),
            MRR_CACHE_SECONDS,
            json.dumps(
                {
                    "amount_cents": mrr.amount_cents,
                    "currency": mrr.currency,
                    "as_of": mrr.as_of.isoformat(),
                }
            ),
        )
    return mrr
