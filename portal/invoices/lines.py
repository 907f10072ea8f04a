"""The lines of one invoice, read from Lago when asked and kept briefly in Redis."""

from __future__ import annotations

import json
import logging

from redis.exceptions import RedisError

from portal.billing.connection import lago_client
from portal.extensions import redis_connection, redis_key
from portal.lago import InvoiceDetail

KEEP_SECONDS = 120  # an issued invoice changes rarely: its payment status lives in the mirror

log = logging.getLogger(__name__)


def _key(lago_id: str) -> str:
    return redis_key("invoice-lines", lago_id)


def invoice_detail(lago_id: str) -> InvoiceDetail:
    """Fees, credits, taxes and billing details; raises `NotConnected` or `LagoError`."""
    try:
        kept = redis_connection().get(_key(lago_id))
    except RedisError:
        kept = None
    if kept:
        return InvoiceDetail.from_api(json.loads(kept))
    detail = lago_client().get_invoice_detail(lago_id)  # within the request's deadline
    try:
        redis_connection().set(_key(lago_id), json.dumps(detail.invoice.raw), ex=KEEP_SECONDS)
    except RedisError as error:
        log.warning("Could not keep the lines of invoice %s: %s", lago_id, error)
    return detail
