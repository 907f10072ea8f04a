"""Usage events on their way to Lago: accepted into the outbox at once, forwarded in batches.

An event is stored once per `transaction_id` (a repeat answers with the stored one), then sent
to Lago's `POST /events/batch` with its own timestamp, so a resend is the same event. Lago keeps
a batch all or none: when it refuses one, the events it names as already stored count as sent
(a repeat after a lost answer), the ones it refuses for another reason are marked failed with
Lago's words, and the rest go again at once. While Lago is down or slow the events wait and are
tried again with backoff, as long as it takes; nothing is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from portal.billing.connection import NotConnected, lago_client
from portal.billing.mirror import dialect_insert
from portal.extensions import db
from portal.lago import LagoError, LagoValidationError
from portal.lago.client import EVENTS_BATCH_LIMIT
from portal.models import OutboxState, Tenant, UsageEvent, utcnow

log = logging.getLogger(__name__)

# Seconds before each new try of events Lago could not take; the last one repeats for ever.
BACKOFF = (5, 30, 120, 600, 1800, 3600)
# A worker holds the events it is sending for this long; another may take them after that.
LEASE = timedelta(seconds=120)
ALREADY_STORED = "value_already_exist"


class TransactionTaken(ValueError):
    """The transaction id is already used by another tenant's event."""


@dataclass(frozen=True)
class Incoming:
    """One event as the host application reported it (already checked)."""

    transaction_id: str
    code: str
    timestamp: datetime
    properties: dict[str, Any]
    precise_total_amount_cents: str | None = None


def accept(
    tenant: Tenant, subscription_id: str, events: list[Incoming], request_id: str | None
) -> list[tuple[UsageEvent, bool]]:
    """Store the events (each transaction id once); returns each row and whether it is new.

    Concurrent repeats of one transaction id are settled by the database's unique index.
    Raises TransactionTaken when an id already belongs to another tenant (the caller commits).
    """
    now = utcnow()
    rows = [
        {
            "transaction_id": event.transaction_id,
            "tenant_id": tenant.id,
            "external_subscription_id": subscription_id,
            "code": event.code,
            "properties": event.properties,
            "precise_total_amount_cents": event.precise_total_amount_cents,
            "timestamp": event.timestamp,
            "state": OutboxState.pending,
            "attempts": 0,
            "accepted_at": now,
            "next_attempt_at": now,
            "request_id": request_id,
        }
        for event in events
    ]
    ids = [event.transaction_id for event in events]
    stmt = dialect_insert(UsageEvent).values(rows)
    stmt = stmt.on_conflict_do_nothing(index_elements=["transaction_id"])
    inserted = set(db.session.scalars(stmt.returning(UsageEvent.transaction_id)))
    stored = {
        row.transaction_id: row
        for row in db.session.scalars(
            sa.select(UsageEvent)
            .where(UsageEvent.transaction_id.in_(ids))
            .execution_options(populate_existing=True)
        )
    }
    taken = [tid for tid in ids if stored[tid].tenant_id != tenant.id]
    if taken:
        raise TransactionTaken(", ".join(taken[:5]))
    return [(stored[tid], tid in inserted) for tid in ids]


def find(transaction_id: str) -> UsageEvent | None:
    return db.session.scalar(
        sa.select(UsageEvent).where(UsageEvent.transaction_id == transaction_id)
    )


def claim_batch(now: datetime | None = None, size: int = EVENTS_BATCH_LIMIT) -> list[int]:
    """Take up to `size` due events for this worker (a lease; the caller commits)."""
    now = now or utcnow()
    query = (
        sa.select(UsageEvent)
        .where(UsageEvent.state == OutboxState.pending, UsageEvent.next_attempt_at <= now)
        .order_by(UsageEvent.id)
        .limit(size)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(db.session.scalars(query))
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + LEASE
    return [row.id for row in rows]


def lago_event(row: UsageEvent) -> dict[str, Any]:
    """The event as Lago takes it: an explicit timestamp (Unix seconds, milliseconds kept)."""
    stamp = Decimal(int(row.timestamp.timestamp() * 1000)) / 1000
    body: dict[str, Any] = {
        "transaction_id": row.transaction_id,
        "external_subscription_id": row.external_subscription_id,
        "code": row.code,
        "timestamp": str(stamp),
        "properties": row.properties or {},
    }
    if row.precise_total_amount_cents is not None:
        body["precise_total_amount_cents"] = row.precise_total_amount_cents
    return body


@dataclass
class Outcome:
    """What one forwarding round did."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    tenants: set[int] = field(default_factory=set)


def forward(ids: list[int], now: datetime | None = None) -> Outcome:
    """Send the claimed events to Lago and record what became of each (the caller commits)."""
    now = now or utcnow()
    rows = list(
        db.session.scalars(
            sa.select(UsageEvent).where(UsageEvent.id.in_(ids)).order_by(UsageEvent.id)
        )
    )
    outcome = Outcome()
    if not rows:
        return outcome
    try:
        client = lago_client()
    except NotConnected as exc:
        _wait(rows, exc.message, now, outcome)
        return outcome
    _send(client, rows, now, outcome)
    return outcome


def _send(client, rows: list[UsageEvent], now: datetime, outcome: Outcome) -> None:
    while rows:
        try:
            client.send_events([lago_event(row) for row in rows])
        except LagoValidationError as exc:
            by_index = _errors_by_index(exc, len(rows))
            if by_index is None:
                if len(rows) == 1:
                    _fail(rows[0], _words(exc.field_errors), outcome)
                    return
                half = len(rows) // 2
                _send(client, rows[:half], now, outcome)
                rows = rows[half:]
                continue
            for index, problems in by_index.items():
                row = rows[index]
                if problems == {"transaction_id": [ALREADY_STORED]}:
                    _mark_sent(row, now, outcome)
                else:
                    _fail(row, _words(problems), outcome)
            rows = [row for index, row in enumerate(rows) if index not in by_index]
            continue
        except LagoError as exc:
            _wait(rows, f"{exc.message} {exc.hint}".strip(), now, outcome)
            return
        for row in rows:
            _mark_sent(row, now, outcome)
        return


def _errors_by_index(exc: LagoValidationError, count: int) -> dict[int, dict] | None:
    """Lago's batch errors keyed by event index, or None when they are not per event."""
    found: dict[int, dict] = {}
    for key, value in exc.details.items():
        if not (str(key).isdigit() and int(key) < count and isinstance(value, dict)):
            return None
        found[int(key)] = {
            str(name): [str(code) for code in (codes if isinstance(codes, list) else [codes])]
            for name, codes in value.items()
        }
    return found or None


def _words(problems: dict[str, list[str]]) -> str:
    return "Lago refused the event: " + "; ".join(
        f"{name} {', '.join(codes)}" for name, codes in sorted(problems.items())
    )


def _mark_sent(row: UsageEvent, now: datetime, outcome: Outcome) -> None:
    row.state = OutboxState.sent
    row.sent_at = now
    row.next_attempt_at = None
    row.last_error = None
    outcome.sent += 1
    outcome.tenants.add(row.tenant_id)


def _fail(row: UsageEvent, message: str, outcome: Outcome) -> None:
    row.state = OutboxState.failed
    row.next_attempt_at = None
    row.last_error = message[:1000]
    outcome.failed += 1


def _wait(rows: list[UsageEvent], message: str, now: datetime, outcome: Outcome) -> None:
    for row in rows:
        delay = BACKOFF[min(row.attempts, len(BACKOFF)) - 1] if row.attempts else BACKOFF[0]
        row.next_attempt_at = now + timedelta(seconds=delay)
        row.last_error = message[:1000]
        outcome.waiting += 1
    log.warning("%d usage event(s) wait for Lago: %s", len(rows), message)


def backlog() -> dict[str, int]:
    """How many events are in each state."""
    counts = dict(
        db.session.execute(
            sa.select(UsageEvent.state, sa.func.count()).group_by(UsageEvent.state)
        ).all()
    )
    return {state.value: int(counts.get(state, 0)) for state in OutboxState}
