"""Record, claim and settle operations. None of these functions commit.

The flow of an action: `record` (insert-or-get by the form's idempotency key), commit, `claim`
(only one request wins the right to call Lago or Stripe), commit, call, then `mark_failed` or
`settle` (which asks the kind's confirmer whether the mirror shows the expected end state).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from portal.billing.mirror import dialect_insert
from portal.extensions import db
from portal.models import Operation, OperationState, utcnow
from portal.observability import correlation

log = logging.getLogger(__name__)

Confirmer = Callable[[Operation], bool]
_confirmers: dict[str, Confirmer] = {}

#: After this long without confirmation, the page says plainly what is still pending.
PATIENCE = timedelta(minutes=2)


class OperationConflict(Exception):
    """The idempotency key was already used for a different action."""


def new_key() -> str:
    """A fresh idempotency key for a form (carried in a hidden field)."""
    return secrets.token_urlsafe(24)


def confirms(kind: str) -> Callable[[Confirmer], Confirmer]:
    """Register the function that tells whether an operation of `kind` has taken effect."""

    def register(check: Confirmer) -> Confirmer:
        _confirmers[kind] = check
        return check

    return register


def record(
    *,
    tenant_id: int,
    user_id: int | None,
    kind: str,
    key: str,
    params: dict[str, Any],
    expected: dict[str, Any],
) -> Operation:
    """The operation for this key: created now, or the one a earlier request created.

    A replay with the same key and the same action returns the existing row untouched; the same
    key for another action is refused.
    """
    stmt = (
        dialect_insert(Operation)
        .values(
            tenant_id=tenant_id,
            user_id=user_id,
            kind=kind,
            idempotency_key=key,
            params=params,
            expected=expected,
            state=OperationState.pending,
            request_id=correlation.current(),
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
    )
    db.session.execute(stmt)
    operation = db.session.scalar(
        sa.select(Operation)
        .filter_by(tenant_id=tenant_id, idempotency_key=key)
        .execution_options(populate_existing=True)
    )
    if operation.kind != kind or operation.params != params:
        raise OperationConflict("This form was already used for another change.")
    return operation


def claim(operation: Operation) -> bool:
    """True for the one caller that may send this operation; False if it was sent already."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Operation)
        .where(Operation.id == operation.id, Operation.state == OperationState.pending)
        .values(state=OperationState.submitted, submitted_at=now, updated_at=now)
    )
    db.session.refresh(operation)
    return result.rowcount == 1


def mark_failed(operation: Operation, message: str, code: str | None = None) -> None:
    """Nothing changed: say why, in a sentence the customer understands."""
    operation.state = OperationState.failed
    operation.message = message
    operation.error_code = code
    operation.finished_at = utcnow()


def mark_confirmed(operation: Operation, message: str | None = None) -> None:
    """The change is visible in the mirror."""
    operation.state = OperationState.confirmed
    if message:
        operation.message = message
    operation.finished_at = utcnow()


def settle(operation: Operation) -> Operation:
    """Confirm a submitted operation when its kind's confirmer sees the expected end state."""
    if operation.state is OperationState.submitted:
        check = _confirmers.get(operation.kind)
        if check is not None and check(operation):
            mark_confirmed(operation, operation.expected.get("done"))
    return operation


def settle_submitted(limit: int = 200) -> list[Operation]:
    """Settle every submitted operation (a webhook just changed the mirror); returns those it
    confirmed, each logged with the request id that recorded it."""
    waiting = db.session.scalars(
        sa.select(Operation)
        .where(Operation.state == OperationState.submitted)
        .order_by(Operation.id)
        .limit(limit)
    ).all()
    confirmed = [op for op in waiting if settle(op).state is OperationState.confirmed]
    for operation in confirmed:
        log.info(
            "operation %s (%s) confirmed",
            operation.id,
            operation.kind,
            extra={
                "operation_id": operation.id,
                "operation_kind": operation.kind,
                "operation_request_id": operation.request_id,
                "tenant_id": operation.tenant_id,
            },
        )
    return confirmed


def overdue(operation: Operation) -> bool:
    """Submitted longer ago than we are willing to wait quietly."""
    return (
        operation.state is OperationState.submitted
        and operation.submitted_at is not None
        and utcnow() - operation.submitted_at > PATIENCE
    )


def for_tenant(operation_id: int, tenant_id: int) -> Operation | None:
    """An operation of this tenant, or None (another tenant's id is simply not found)."""
    return db.session.scalar(sa.select(Operation).filter_by(id=operation_id, tenant_id=tenant_id))
