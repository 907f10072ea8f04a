"""Verbs on a tenant's subscription, each an operation with the end state that confirms it.

`send_*` functions call Lago and pull the result into the mirror; confirmers read the mirror.
None of these functions commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from portal import audit
from portal.billing import reconcile
from portal.billing.connection import get_connection, lago_client
from portal.billing.summary import current_subscription, pending_downgrade
from portal.extensions import db
from portal.models import Operation, SubscriptionMirror, Tenant, utcnow
from portal.operations import services as operations
from portal.operations.services import confirms

CREDIT_NOTE_WORDS = {
    "credit": "the unused days are credited to your next invoice",
    "refund": "the unused days are refunded to your card",
    "offset": "the unused days are set against what you still owe",
    "skip": "the unused days are not refunded",
}


class NothingToChange(Exception):
    """The mirror shows nothing this action could apply to; `message` says so."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def termination_settings() -> tuple[str, str]:
    """The admin's choice of credit note and final invoice for cancellations."""
    connection = get_connection()
    if connection is None:
        return "credit", "generate"
    return connection.termination_credit_note, connection.termination_invoice


def _pull(tenant: Tenant) -> None:
    reconcile.pull_subscriptions(tenant, lago_client(), utcnow())


def _live(tenant: Tenant) -> SubscriptionMirror:
    subscription = current_subscription(tenant.id)
    if subscription is None or subscription.status != "active":
        raise NothingToChange("There is no active subscription to change.")
    return subscription


def _record(tenant: Tenant, user_id: int | None, kind: str, key: str, params, expected):
    return operations.record(
        tenant_id=tenant.id,
        user_id=user_id,
        kind=kind,
        key=key,
        params=params,
        expected=expected,
    )


# -- Cancel ------------------------------------------------------------------------------------


def plan_cancellation(
    tenant: Tenant, user_id: int | None, key: str, *, when: str, reason: str, details: str
) -> Operation:
    """Record a cancellation: at the end of the current period, or now."""
    subscription = _live(tenant)
    credit_note, invoice = termination_settings()
    params: dict[str, Any] = {
        "external_id": subscription.external_id,
        "lago_id": subscription.lago_id,
        "when": when,
        "reason": reason or None,
        "details": details or None,
        "credit_note": credit_note,
        "invoice": invoice,
    }
    if when == "now":
        expected = {
            "lago_id": subscription.lago_id,
            "status": "terminated",
            "done": "Your subscription has ended.",
        }
        return _record(tenant, user_id, "cancel_now", key, params, expected)
    ends = subscription.current_period_ending_at
    if ends is None:
        raise NothingToChange("This subscription has no current period to end with.")
    params["ending_at"] = ends.isoformat()
    expected = {
        "lago_id": subscription.lago_id,
        "ending_at": ends.isoformat(),
        "done": "Your subscription is cancelled: it stays active until the end of the period.",
    }
    return _record(tenant, user_id, "cancel_at_period_end", key, params, expected)


def send_cancellation(tenant: Tenant, operation: Operation) -> None:
    """Tell Lago, audit with the reason, and pull the result."""
    params = operation.params
    client = lago_client()
    if operation.kind == "cancel_now":
        client.terminate_subscription(
            params["external_id"], credit_note=params["credit_note"], invoice=params["invoice"]
        )
    else:
        client.update_subscription(
            params["external_id"],
            {
                "ending_at": params["ending_at"],
                "on_termination_credit_note": params["credit_note"],
                "on_termination_invoice": params["invoice"],
            },
        )
    audit.record(
        "subscription.cancel",
        tenant_id=tenant.id,
        target=tenant,
        after={k: params[k] for k in ("when", "reason", "details", "external_id")},
    )
    _pull(tenant)


@confirms("cancel_now")
def _cancelled_now(operation: Operation) -> bool:
    row = _row(operation.expected["lago_id"])
    return row is not None and row.status == "terminated"


@confirms("cancel_at_period_end")
def _cancels_at_period_end(operation: Operation) -> bool:
    row = _row(operation.expected["lago_id"])
    wanted = datetime.fromisoformat(operation.expected["ending_at"])
    return (
        row is not None
        and row.ending_at is not None
        and abs((row.ending_at - wanted).total_seconds()) < 1
    )


# -- Reactivate --------------------------------------------------------------------------------


def plan_reactivation(tenant: Tenant, user_id: int | None, key: str) -> Operation:
    """Record the undo of a scheduled cancellation (Lago: `ending_at: null`)."""
    subscription = _live(tenant)
    if subscription.ending_at is None:
        raise NothingToChange("Your subscription is not scheduled to end.")
    params = {"external_id": subscription.external_id, "lago_id": subscription.lago_id}
    expected = {"lago_id": subscription.lago_id, "done": "Your subscription continues as before."}
    return _record(tenant, user_id, "reactivate", key, params, expected)


def send_reactivation(tenant: Tenant, operation: Operation) -> None:
    lago_client().update_subscription(operation.params["external_id"], {"ending_at": None})
    audit.record("subscription.reactivate", tenant_id=tenant.id, target=tenant)
    _pull(tenant)


@confirms("reactivate")
def _reactivated(operation: Operation) -> bool:
    row = _row(operation.expected["lago_id"])
    return row is not None and row.status == "active" and row.ending_at is None


# -- Undo a scheduled downgrade ----------------------------------------------------------------


def plan_downgrade_undo(tenant: Tenant, user_id: int | None, key: str) -> Operation:
    """Record dropping the pending downgrade (Lago: DELETE ?status=pending)."""
    current = _live(tenant)
    pending = pending_downgrade(current)
    if pending is None:
        raise NothingToChange("No plan change is scheduled.")
    params = {"external_id": pending.external_id, "lago_id": pending.lago_id}
    expected = {"lago_id": pending.lago_id, "done": "You keep your current plan."}
    return _record(tenant, user_id, "undo_downgrade", key, params, expected)


def send_downgrade_undo(tenant: Tenant, operation: Operation) -> None:
    lago_client().terminate_subscription(operation.params["external_id"], status="pending")
    audit.record(
        "subscription.undo_downgrade", tenant_id=tenant.id, target=tenant, after=operation.params
    )
    _pull(tenant)


@confirms("undo_downgrade")
def _downgrade_dropped(operation: Operation) -> bool:
    row = _row(operation.expected["lago_id"])
    return row is None or row.status != "pending"


def _row(lago_id: str) -> SubscriptionMirror | None:
    return db.session.scalar(
        sa.select(SubscriptionMirror)
        .filter_by(lago_id=lago_id)
        .execution_options(populate_existing=True)
    )
