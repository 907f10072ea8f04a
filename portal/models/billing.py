"""The billing connection (Pier ↔ Lago) and Pier's plan catalogue."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import Timestamps, UTCDateTime


class Provider(enum.StrEnum):
    """Where the billing engine runs."""

    lago_self_hosted = "lago_self_hosted"
    lago_cloud_us = "lago_cloud_us"
    lago_cloud_eu = "lago_cloud_eu"

    @property
    def label(self) -> str:
        return {
            "lago_self_hosted": "Lago (self-hosted)",
            "lago_cloud_us": "Lago Cloud (US)",
            "lago_cloud_eu": "Lago Cloud (EU)",
        }[self.value]

    @property
    def default_url(self) -> str:
        return {
            "lago_self_hosted": "",
            "lago_cloud_us": "https://api.getlago.com",
            "lago_cloud_eu": "https://api.eu.getlago.com",
        }[self.value]


class WebhookAlgorithm(enum.StrEnum):
    """How Lago signs the webhooks it sends to Pier."""

    jwt = "jwt"
    hmac = "hmac"


class BillingConnection(Timestamps, db.Model):
    """The one connection to Lago: where, the key (encrypted), webhook checks and behaviour."""

    __tablename__ = "billing_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[Provider] = mapped_column(
        sa.Enum(Provider, native_enum=False, length=32, validate_strings=True),
        nullable=False,
        default=Provider.lago_self_hosted,
    )
    api_url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    api_key_encrypted: Mapped[str] = mapped_column(sa.Text, nullable=False)
    webhook_algorithm: Mapped[WebhookAlgorithm] = mapped_column(
        sa.Enum(WebhookAlgorithm, native_enum=False, length=8, validate_strings=True),
        nullable=False,
        default=WebhookAlgorithm.jwt,
    )
    hmac_key_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    webhook_public_key: Mapped[str | None] = mapped_column(sa.Text)
    webhook_issuer: Mapped[str | None] = mapped_column(sa.String(500))
    webhook_endpoint_id: Mapped[str | None] = mapped_column(sa.String(64))

    organization_id: Mapped[str | None] = mapped_column(sa.String(64))
    organization_name: Mapped[str | None] = mapped_column(sa.String(255))
    organization_currency: Mapped[str | None] = mapped_column(sa.String(3))
    organization_timezone: Mapped[str | None] = mapped_column(sa.String(64))
    lago_version: Mapped[str | None] = mapped_column(sa.String(40))

    default_currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="USD")
    default_trial_days: Mapped[int] = mapped_column(nullable=False, default=0)
    auto_create_customers: Mapped[bool] = mapped_column(nullable=False, default=True)
    default_plan_code: Mapped[str | None] = mapped_column(sa.String(255))
    sync_plans_to_lago: Mapped[bool] = mapped_column(nullable=False, default=False)
    lago_sends_invoice_emails: Mapped[bool] = mapped_column(nullable=False, default=True)
    overage_enabled: Mapped[bool] = mapped_column(nullable=False, default=True)
    trial_reminder_days: Mapped[int] = mapped_column(nullable=False, default=3)
    suspension_grace_days: Mapped[int] = mapped_column(nullable=False, default=14)
    # What Lago does with the unused part of a plan when a customer cancels.
    termination_credit_note: Mapped[str] = mapped_column(
        sa.String(10), nullable=False, default="credit"
    )
    termination_invoice: Mapped[str] = mapped_column(
        sa.String(10), nullable=False, default="generate"
    )

    # Whether this Lago has the subscription alerts API: None until Pier first tries it,
    # False after a 403, 404 or 405 (Pier's job evaluates usage alerts instead).
    lago_alerts: Mapped[bool | None] = mapped_column(sa.Boolean)

    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_plan_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


plan_transitions = sa.Table(
    "plan_transitions",
    db.metadata,
    sa.Column("from_plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("to_plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
)


class Plan(Timestamps, db.Model):
    """A plan as Pier shows it: Lago's facts (mirrored) plus what only Pier keeps."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    # Mirrored from Lago.
    lago_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    interval: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="monthly")
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="USD")
    trial_period_days: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0)
    pay_in_advance: Mapped[bool] = mapped_column(nullable=False, default=False)
    charges: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # Lago's plan entitlements: [{code, name, description, privileges: [{code, name,
    # value_type, value}]}], in Lago's order.
    entitlements: Mapped[list] = mapped_column(
        sa.JSON, nullable=False, default=list, server_default=sa.text("'[]'")
    )
    lago_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    removed_from_lago_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Only Pier keeps these.
    display_name: Mapped[str | None] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    features: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    visible: Mapped[bool] = mapped_column(nullable=False, default=True)
    highlighted: Mapped[bool] = mapped_column(nullable=False, default=False)

    switch_targets: Mapped[list[Plan]] = relationship(
        secondary=plan_transitions,
        primaryjoin=lambda: Plan.id == plan_transitions.c.from_plan_id,
        secondaryjoin=lambda: Plan.id == plan_transitions.c.to_plan_id,
        order_by=lambda: Plan.position,
    )

    @property
    def title(self) -> str:
        return self.display_name or self.name
