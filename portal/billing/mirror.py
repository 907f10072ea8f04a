"""Pier's mirror of Lago: idempotent upserts in which an older snapshot never beats a newer one.

Webhook handlers and reconciliation both write through these functions. Rows are keyed by
Lago's ids and written with the database's ON CONFLICT (PostgreSQL and SQLite), so two workers
that race on the same object leave one row, and the newer `source_at` wins whatever the order.
None of these functions commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.lago import AppliedCoupon, CreditNote, Customer, Invoice, Subscription, Wallet
from portal.models import (
    AppliedCouponMirror,
    BillingAccount,
    CreditNoteMirror,
    DunningState,
    InvoiceMirror,
    Plan,
    SubscriptionMirror,
    Tenant,
    utcnow,
)


class Upserted(NamedTuple):
    """The mirror row after an upsert, and whether this snapshot was written."""

    row: Any
    applied: bool


def dialect_insert(model: Any) -> Any:
    """An INSERT that can say ON CONFLICT on the database in use (PostgreSQL or SQLite)."""
    module = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return module.insert(model)


def as_midnight(value: date | None) -> datetime | None:
    """A Lago calendar date as midnight UTC, the way the mirror stores dates."""
    if value is None:
        return None
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _fresh(model: Any, **where: Any) -> Any:
    """The row as the database holds it now (not a stale copy from the session)."""
    query = sa.select(model).filter_by(**where).execution_options(populate_existing=True)
    return db.session.scalar(query)


def _upsert_newer(model: Any, values: dict[str, Any]) -> Upserted:
    """Insert by lago_id, or update when this snapshot is at least as new as the stored one."""
    now = utcnow()
    stmt = dialect_insert(model).values(**values, created_at=now, updated_at=now)
    changes = {name: stmt.excluded[name] for name in values if name != "lago_id"}
    changes["updated_at"] = stmt.excluded.updated_at
    stmt = stmt.on_conflict_do_update(
        index_elements=["lago_id"],
        set_=changes,
        where=model.source_at <= stmt.excluded.source_at,
    ).returning(model.id)
    applied = db.session.execute(stmt).scalar() is not None
    return Upserted(_fresh(model, lago_id=values["lago_id"]), applied)


# -- Billing account ---------------------------------------------------------------------------


def billing_account(tenant: Tenant, *, lock: bool = False) -> BillingAccount:
    """The tenant's billing account, created on first use; `lock` holds it until commit.

    Creation is an insert-or-ignore, so two workers asking at once get the same row. The lock is
    `SELECT ... FOR UPDATE` on PostgreSQL; SQLite has no row locks, so a write to the row takes
    the database's write lock instead, which serialises the callers just the same.
    """
    account = None if lock else _fresh(BillingAccount, tenant_id=tenant.id)
    if account is not None:
        return account
    now = utcnow()
    db.session.execute(
        dialect_insert(BillingAccount)
        .values(tenant_id=tenant.id, dunning_state=DunningState.ok, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    if lock:
        if db.engine.dialect.name == "sqlite":
            db.session.execute(
                sa.update(BillingAccount)
                .where(BillingAccount.tenant_id == tenant.id)
                .values(updated_at=now)
            )
        else:
            query = (
                sa.select(BillingAccount)
                .where(BillingAccount.tenant_id == tenant.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            return db.session.scalar(query)
    return _fresh(BillingAccount, tenant_id=tenant.id)


def link_customer(tenant: Tenant, customer: Customer) -> BillingAccount:
    """Record the tenant's Lago customer and its payment-provider link."""
    account = billing_account(tenant)
    if tenant.lago_customer_id is None:
        tenant.lago_customer_id = customer.lago_id
    account.payment_provider = customer.payment_provider
    account.applicable_timezone = customer.applicable_timezone or account.applicable_timezone
    if customer.provider_customer_id or not customer.payment_provider:
        account.provider_customer_id = customer.provider_customer_id
    if customer.provider_customer_id:
        account.payment_provider_error = None
    return account


def update_wallet(tenant: Tenant, wallet: Wallet, *, now: datetime | None = None) -> BillingAccount:
    """Record the tenant's wallet balance; the balance shown is the ongoing one (after usage)."""
    account = billing_account(tenant)
    now = now or utcnow()
    if wallet.status == "terminated":
        if account.wallet_lago_id == wallet.lago_id:
            account.wallet_lago_id = None
            account.wallet_balance_cents = None
            account.wallet_credits = None
            account.wallet_currency = None
            account.wallet_depleted_at = None
        return account
    ongoing = wallet.ongoing_balance_cents
    balance = ongoing if ongoing is not None else wallet.balance_cents
    credits = wallet.credits_ongoing_balance
    account.wallet_lago_id = wallet.lago_id
    account.wallet_balance_cents = balance
    account.wallet_credits = str(credits if credits is not None else wallet.credits_balance)
    account.wallet_currency = wallet.currency or None
    if balance <= 0:
        account.wallet_depleted_at = account.wallet_depleted_at or now
    else:
        account.wallet_depleted_at = None
    return account


# -- Subscriptions -----------------------------------------------------------------------------


def trial_days(subscription: Subscription) -> float:
    """The plan's free days: from the subscription's plan object, else from Pier's catalogue."""
    if subscription.plan is not None:
        return subscription.plan.trial_period_days
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == subscription.plan_code))
    return plan.trial_period_days if plan is not None else 0.0


def first_start(tenant: Tenant, subscription: Subscription) -> datetime | None:
    """When this external id first started for the tenant: Lago's `initial_started_at`.

    A plan change makes a new subscription with the same external id; its trial still counts
    from the first start, so the earliest start among the mirrored records is used.
    """
    own = subscription.started_at or subscription.subscription_at
    earlier = db.session.scalar(
        sa.select(sa.func.min(SubscriptionMirror.started_at)).where(
            SubscriptionMirror.tenant_id == tenant.id,
            SubscriptionMirror.external_id == subscription.external_id,
            SubscriptionMirror.lago_id != subscription.lago_id,
        )
    )
    if earlier is not None and (own is None or earlier < own):
        return earlier
    return own


def trial_end(tenant: Tenant, subscription: Subscription) -> datetime | None:
    """When the free trial ends: Lago's `trial_ended_at` once set, else first start + days."""
    if subscription.trial_ended_at is not None:
        return subscription.trial_ended_at
    days = trial_days(subscription)
    start = first_start(tenant, subscription)
    if not days or start is None:
        return None
    return start + timedelta(days=days)


def upsert_subscription(
    tenant: Tenant, subscription: Subscription, source_at: datetime
) -> Upserted:
    """Write a Lago subscription unless the mirror holds a newer snapshot of it."""
    return _upsert_newer(
        SubscriptionMirror,
        {
            "lago_id": subscription.lago_id,
            "tenant_id": tenant.id,
            "external_id": subscription.external_id,
            "plan_code": subscription.plan_code,
            "name": subscription.name,
            "status": subscription.status,
            "billing_time": subscription.billing_time,
            "started_at": subscription.started_at,
            "subscription_at": subscription.subscription_at,
            "trial_ends_at": trial_end(tenant, subscription),
            "trial_ended_at": subscription.trial_ended_at,
            "current_period_started_at": subscription.current_billing_period_started_at,
            "current_period_ending_at": subscription.current_billing_period_ending_at,
            "ending_at": subscription.ending_at,
            "terminated_at": subscription.terminated_at,
            "canceled_at": subscription.canceled_at,
            "next_plan_code": subscription.next_plan_code,
            "downgrade_plan_date": as_midnight(subscription.downgrade_plan_date),
            "previous_plan_code": subscription.previous_plan_code,
            "source_at": source_at,
        },
    )


def upsert_subscriptions(
    tenant: Tenant, subscriptions: list[Subscription], source_at: datetime
) -> list[Upserted]:
    """Write several records at once (earliest start first, so a plan change's trial counts
    from the first start), then note the scheduled downgrades they show."""
    ordered = sorted(
        subscriptions,
        key=lambda s: (s.started_at is None, s.started_at or s.created_at or source_at),
    )
    written = [upsert_subscription(tenant, subscription, source_at) for subscription in ordered]
    for external_id in {subscription.external_id for subscription in subscriptions}:
        note_scheduled_downgrade(tenant, external_id)
    return written


def note_scheduled_downgrade(tenant: Tenant, external_id: str) -> None:
    """Mark on the active record of this external id the downgrade Lago has scheduled.

    A downgrade is scheduled when a pending record follows the active one: same external id,
    and its previous plan is the active one's plan (a record that starts in the future has no
    previous plan). Lago's `next_plan_code` alone does not say so: after a plan change the ended
    record names its successor there too. The new plan takes over on the active record's
    `downgrade_plan_date`.
    """
    records = db.session.scalars(
        sa.select(SubscriptionMirror).where(
            SubscriptionMirror.tenant_id == tenant.id,
            SubscriptionMirror.external_id == external_id,
        )
    ).all()
    pending = [r for r in records if r.status == "pending" and r.previous_plan_code]
    for record in records:
        follower = next(
            (
                p
                for p in pending
                if record.status == "active" and p.previous_plan_code == record.plan_code
            ),
            None,
        )
        record.pending_plan_code = follower.plan_code if follower else None
        record.pending_plan_starts_at = record.downgrade_plan_date if follower else None


def subscription_said_at(subscription: Subscription) -> datetime | None:
    """The latest moment a subscription's own timestamps record (Lago sends no updated_at)."""
    moments = [
        subscription.created_at,
        subscription.started_at,
        subscription.trial_ended_at,
        subscription.terminated_at,
        subscription.canceled_at,
    ]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


# -- Invoices ----------------------------------------------------------------------------------


def upsert_invoice(tenant: Tenant, invoice: Invoice, source_at: datetime) -> Upserted:
    """Write a Lago invoice unless the mirror holds a newer snapshot of it."""
    due = invoice.raw.get("total_due_amount_cents")
    return _upsert_newer(
        InvoiceMirror,
        {
            "lago_id": invoice.lago_id,
            "tenant_id": tenant.id,
            "number": invoice.number or None,
            "invoice_type": invoice.invoice_type,
            "status": invoice.status,
            "payment_status": invoice.payment_status or None,
            "payment_overdue": invoice.payment_overdue,
            "currency": invoice.currency,
            "total_amount_cents": invoice.total_amount_cents,
            "taxes_amount_cents": invoice.taxes_amount_cents,
            "total_due_amount_cents": due if type(due) is int else None,
            "issuing_date": as_midnight(invoice.issuing_date),
            "payment_due_date": as_midnight(invoice.payment_due_date),
            "file_available": bool(invoice.file_url),
            "lago_updated_at": invoice.updated_at,
            "source_at": source_at,
        },
    )


def invoice_said_at(invoice: Invoice) -> datetime | None:
    """When Lago last changed the invoice, as it says."""
    return invoice.updated_at or invoice.created_at


def set_payment_status(lago_id: str, payment_status: str) -> InvoiceMirror | None:
    """Change a mirrored invoice's payment status when only the fact is known, not a snapshot."""
    row = _fresh(InvoiceMirror, lago_id=lago_id)
    if row is None:
        return None
    if row.payment_status != "succeeded":
        row.payment_status = payment_status
    return row


def invoice(lago_id: str) -> InvoiceMirror | None:
    """A mirrored invoice by its Lago id, as stored now."""
    return _fresh(InvoiceMirror, lago_id=lago_id)


def upsert_credit_note(tenant: Tenant, note: CreditNote, source_at: datetime) -> Upserted:
    """Write a Lago credit note unless the mirror holds a newer snapshot of it."""
    return _upsert_newer(
        CreditNoteMirror,
        {
            "lago_id": note.lago_id,
            "tenant_id": tenant.id,
            "invoice_lago_id": note.lago_invoice_id,
            "number": note.number,
            "credit_status": note.credit_status,
            "refund_status": note.refund_status,
            "reason": note.reason,
            "currency": note.currency,
            "total_amount_cents": note.total_amount_cents,
            "credit_amount_cents": note.credit_amount_cents,
            "refund_amount_cents": note.refund_amount_cents,
            "issuing_date": as_midnight(note.issuing_date),
            "file_available": bool(note.file_url),
            "source_at": source_at,
        },
    )


# -- Applied coupons ---------------------------------------------------------------------------


def upsert_applied_coupon(tenant: Tenant, applied: AppliedCoupon, source_at: datetime) -> Upserted:
    """Write a coupon applied to the tenant unless the mirror holds a newer snapshot of it."""
    rate = applied.percentage_rate
    return _upsert_newer(
        AppliedCouponMirror,
        {
            "lago_id": applied.lago_id,
            "tenant_id": tenant.id,
            "coupon_code": applied.coupon_code[:255],
            "coupon_name": applied.coupon_name[:255],
            "status": applied.status,
            "frequency": applied.frequency,
            "amount_cents": applied.amount_cents,
            "amount_cents_remaining": applied.amount_cents_remaining,
            "amount_currency": applied.amount_currency,
            "percentage_rate": format(rate, "f") if rate is not None else None,
            "frequency_duration": applied.frequency_duration,
            "frequency_duration_remaining": applied.frequency_duration_remaining,
            "expiration_at": applied.expiration_at,
            "applied_at": applied.created_at,
            "terminated_at": applied.terminated_at,
            "source_at": source_at,
        },
    )


def replace_applied_coupons(
    tenant: Tenant, applied: list[AppliedCoupon], source_at: datetime
) -> None:
    """The tenant's applied coupons exactly as Lago listed them (rows Lago no longer lists go)."""
    for coupon in applied:
        upsert_applied_coupon(tenant, coupon, source_at)
    listed = [coupon.lago_id for coupon in applied]
    gone = sa.delete(AppliedCouponMirror).where(
        AppliedCouponMirror.tenant_id == tenant.id,
        AppliedCouponMirror.lago_id.not_in(listed),
        AppliedCouponMirror.source_at <= source_at,
    )
    db.session.execute(gone)
