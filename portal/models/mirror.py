"""Pier's mirror of each tenant's billing state in Lago and Stripe; pages render from it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import Timestamps, UTCDateTime


class DunningState(enum.StrEnum):
    """How a tenant's payments stand."""

    ok = "ok"
    payment_failed = "payment_failed"
    overdue = "overdue"
    suspended = "suspended"


class PaymentIssue(enum.StrEnum):
    """Why an invoice is not paid yet, as far as Lago told: banners word each one differently."""

    declined = "declined"  # the card was refused (invoice.payment_failure)
    authentication_required = "authentication_required"  # 3-D Secure (payment.requires_action)
    no_payment_method = "no_payment_method"  # nothing to charge (customer_must_have_...)


class SubscriptionMirror(Timestamps, db.Model):
    """A Lago subscription of a tenant (current, pending, or ended)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    external_id: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    lago_id: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    plan_code: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    name: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    billing_time: Mapped[str | None] = mapped_column(sa.String(20))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subscription_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trial_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trial_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_period_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_period_ending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_plan_code: Mapped[str | None] = mapped_column(sa.String(255))
    downgrade_plan_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_plan_code: Mapped[str | None] = mapped_column(sa.String(255))
    # A scheduled downgrade, set only from the pending subscription that follows this active one
    # (Lago's next_plan_code also names the plan that replaced an ended subscription).
    pending_plan_code: Mapped[str | None] = mapped_column(sa.String(255))
    pending_plan_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # when Lago said so


class InvoiceMirror(Timestamps, db.Model):
    """A Lago invoice of a tenant."""

    __tablename__ = "invoices"
    # The invoice list walks (tenant, issuing day, id) newest first, one page at a time.
    __table_args__ = (sa.Index("ix_invoices_tenant_listing", "tenant_id", "issuing_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    lago_id: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    number: Mapped[str | None] = mapped_column(sa.String(64))
    invoice_type: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    payment_status: Mapped[str | None] = mapped_column(sa.String(20))
    payment_overdue: Mapped[bool] = mapped_column(nullable=False, default=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    total_amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    taxes_amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    total_due_amount_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    issuing_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_due_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_available: Mapped[bool] = mapped_column(nullable=False, default=False)
    payment_issue: Mapped[PaymentIssue | None] = mapped_column(
        sa.Enum(PaymentIssue, native_enum=False, length=32, validate_strings=True)
    )
    payment_issue_detail: Mapped[str | None] = mapped_column(sa.Text)  # the provider's words
    payment_action_url: Mapped[str | None] = mapped_column(sa.Text)  # where to confirm (3DS)
    lago_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CreditNoteMirror(Timestamps, db.Model):
    """A Lago credit note of a tenant, shown next to the invoice it credits."""

    __tablename__ = "credit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    lago_id: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    invoice_lago_id: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    number: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    credit_status: Mapped[str | None] = mapped_column(sa.String(20))
    refund_status: Mapped[str | None] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    total_amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    credit_amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    refund_amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    issuing_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_available: Mapped[bool] = mapped_column(nullable=False, default=False)
    source_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AppliedCouponMirror(Timestamps, db.Model):
    """A coupon Lago applied to a tenant's customer: what it takes off and what is left."""

    __tablename__ = "applied_coupons"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    lago_id: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    coupon_code: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    coupon_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    frequency: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    amount_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    amount_cents_remaining: Mapped[int | None] = mapped_column(sa.BigInteger)
    amount_currency: Mapped[str | None] = mapped_column(sa.String(3))
    percentage_rate: Mapped[str | None] = mapped_column(sa.String(20))  # a decimal, as Lago says
    frequency_duration: Mapped[int | None] = mapped_column()
    frequency_duration_remaining: Mapped[int | None] = mapped_column()
    expiration_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class BillingAccount(Timestamps, db.Model):
    """Per tenant: the payment-provider link, wallet balance and dunning state."""

    __tablename__ = "billing_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    payment_provider: Mapped[str | None] = mapped_column(sa.String(32))
    provider_customer_id: Mapped[str | None] = mapped_column(sa.String(255))
    payment_provider_error: Mapped[str | None] = mapped_column(sa.Text)
    stripe_linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # Lago told of it
    stripe_link_error: Mapped[str | None] = mapped_column(sa.Text)
    wallet_lago_id: Mapped[str | None] = mapped_column(sa.String(64))
    wallet_balance_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    wallet_credits: Mapped[str | None] = mapped_column(sa.String(40))
    wallet_currency: Mapped[str | None] = mapped_column(sa.String(3))
    wallet_depleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The tenant's "tell me when credits fall below" level (None: off), the wallet code of the
    # Lago wallet alert that watches it (None: Pier watches the mirrored balance), and when the
    # balance last went below it (None while above: the next fall is a new crossing).
    low_credits: Mapped[str | None] = mapped_column(sa.String(40))
    low_credits_lago_wallet: Mapped[str | None] = mapped_column(sa.String(255))
    low_credits_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dunning_state: Mapped[DunningState] = mapped_column(
        sa.Enum(DunningState, native_enum=False, length=20, validate_strings=True),
        nullable=False,
        default=DunningState.ok,
    )
    dunning_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dunning_invoice_lago_id: Mapped[str | None] = mapped_column(sa.String(64))
    payment_issue: Mapped[PaymentIssue | None] = mapped_column(
        sa.Enum(PaymentIssue, native_enum=False, length=32, validate_strings=True)
    )  # the reason of the first unpaid invoice with a known one
    card_setup_url: Mapped[str | None] = mapped_column(sa.Text)  # Lago's checkout URL
    payment_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applicable_timezone: Mapped[str | None] = mapped_column(sa.String(64))


class Notice(db.Model):
    """An in-app notice for a tenant (or for platform admins when tenant_id is empty)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    level: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="info")
    title: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailLog(db.Model):
    """Every email Pier sends, keyed by the business fact it is about (sent once)."""

    __tablename__ = "email_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="SET NULL"), index=True
    )
    template: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    recipient: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="queued")
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
