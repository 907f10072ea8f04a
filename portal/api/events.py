"""Usage events: one or a batch, accepted into the outbox and answered 202; status by id."""

from __future__ import annotations

import logging

from flask import g
from redis.exceptions import RedisError

from portal.api import bp, services
from portal.api.inputs import Fields, json_object
from portal.api.replies import ApiError
from portal.api.tenants import iso
from portal.billing import usage_outbox
from portal.billing.customers import subscription_external_id
from portal.billing.summary import current_subscription
from portal.extensions import db, redis_connection, redis_key
from portal.lago.client import EVENTS_BATCH_LIMIT
from portal.models import Tenant, UsageEvent, utcnow
from portal.queues import enqueue

log = logging.getLogger(__name__)

EVENT_FIELDS = {
    "transaction_id",
    "tenant_id",
    "code",
    "timestamp",
    "properties",
    "precise_total_amount_cents",
}
FORWARD_JOB = "jobs.usage.forward_due"
# One forwarding job is queued at a time; new events wait for it or the minute sweep.
FORWARD_GUARD_SECONDS = 2


def event_json(row: UsageEvent, tenant_external_id: str, duplicate: bool = False) -> dict:
    return {
        "transaction_id": row.transaction_id,
        "tenant_id": tenant_external_id,
        "code": row.code,
        "timestamp": iso(row.timestamp),
        "properties": row.properties or {},
        "precise_total_amount_cents": row.precise_total_amount_cents,
        "status": row.state.value,
        "duplicate": duplicate,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "accepted_at": iso(row.accepted_at),
        "sent_at": iso(row.sent_at),
    }


def _read_event(body, prefix: str, problems: dict, now) -> tuple[str | None, usage_outbox.Incoming]:
    if not isinstance(body, dict):
        problems.setdefault(prefix.rstrip("."), []).append("must be an object")
        return None, None
    fields = Fields(body, EVENT_FIELDS, prefix)
    tenant_id = fields.text("tenant_id", required=True, max_length=64)
    incoming = usage_outbox.Incoming(
        transaction_id=fields.text("transaction_id", required=True, max_length=255) or "",
        code=fields.text("code", required=True, max_length=255) or "",
        timestamp=fields.moment("timestamp", now),
        properties=fields.properties("properties"),
        precise_total_amount_cents=fields.decimal("precise_total_amount_cents"),
    )
    for name, messages in fields.problems.items():
        problems.setdefault(name, []).extend(messages)
    return tenant_id, incoming


def _subscription_of(tenant: Tenant) -> str:
    """The Lago subscription the tenant's usage counts against."""
    current = current_subscription(tenant.id)
    return current.external_id if current is not None else subscription_external_id(tenant)


def _accept(items: list, *, batch: bool) -> list[dict]:
    now = utcnow()
    problems: dict[str, list[str]] = {}
    read = [
        _read_event(item, f"events.{i}." if batch else "", problems, now)
        for i, item in enumerate(items)
    ]
    tenants: dict[str, Tenant] = {}
    for index, (tenant_id, _) in enumerate(read):
        if tenant_id and tenant_id not in tenants:
            tenant = services.by_external_id(tenant_id)
            if tenant is None:
                name = f"events.{index}.tenant_id" if batch else "tenant_id"
                problems.setdefault(name, []).append("is not a tenant")
            else:
                tenants[tenant_id] = tenant
    seen: set[str] = set()
    for index, (_, event) in enumerate(read):
        if event is not None and event.transaction_id:
            if event.transaction_id in seen:
                problems.setdefault(f"events.{index}.transaction_id", []).append(
                    "appears twice in this batch"
                )
            seen.add(event.transaction_id)
    if problems:
        raise ApiError(422, details=problems)
    by_tenant: dict[str, list[usage_outbox.Incoming]] = {}
    for tenant_id, event in read:
        by_tenant.setdefault(tenant_id, []).append(event)
    answers: dict[str, dict] = {}
    for tenant_id, events in by_tenant.items():
        tenant = tenants[tenant_id]
        try:
            stored = usage_outbox.accept(
                tenant, _subscription_of(tenant), events, g.get("request_id")
            )
        except usage_outbox.TransactionTaken as exc:
            raise ApiError(
                409,
                "transaction_id_taken",
                f"These transaction ids belong to another tenant: {exc}",
            ) from exc
        for row, new in stored:
            answers[row.transaction_id] = event_json(row, tenant.external_id, duplicate=not new)
    db.session.commit()
    request_forwarding()
    return [answers[event.transaction_id] for _, event in read]


def request_forwarding() -> None:
    """Queue the forwarding job unless one was queued a moment ago (the sweep catches the rest)."""
    try:
        if redis_connection().set(
            redis_key("usage", "forward"), 1, nx=True, ex=FORWARD_GUARD_SECONDS
        ):
            enqueue("default", FORWARD_JOB)
    except (RedisError, OSError):
        log.warning("Redis is unavailable: usage events wait for the minute sweep")


@bp.post("/events")
def create_event():
    """One usage event: 202 once it is in the outbox."""
    return {"event": _accept([json_object()], batch=False)[0]}, 202


@bp.post("/events/batch")
def create_events():
    """Up to 100 usage events, accepted all or none: 202 once they are in the outbox."""
    fields = Fields(json_object(), {"events"})
    events = fields.body.get("events")
    if not isinstance(events, list) or not 0 < len(events) <= EVENTS_BATCH_LIMIT:
        fields.add("events", f"must be a list of 1 to {EVENTS_BATCH_LIMIT} events")
    fields.done()
    return {"events": _accept(events, batch=True)}, 202


@bp.get("/events/<transaction_id>")
def get_event(transaction_id: str):
    """Where an event stands: pending (waiting for Lago), sent, or failed with Lago's reason."""
    row = usage_outbox.find(transaction_id) if len(transaction_id) <= 255 else None
    if row is None:
        raise ApiError(404, "event_not_found", f"There is no event {transaction_id}.")
    tenant = db.session.get(Tenant, row.tenant_id)
    return {"event": event_json(row, tenant.external_id)}
