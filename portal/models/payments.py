"""Stripe: the platform's keys (encrypted), and each tenant's cards and card setups."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import Timestamps, UTCDateTime


class StripeSettings(Timestamps, db.Model):
    """The one Stripe account Pier saves cards in; secrets encrypted at rest."""

    __tablename__ = "stripe_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_key_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    publishable_key: Mapped[str | None] = mapped_column(sa.String(255))
    webhook_secrets_encrypted: Mapped[str | None] = mapped_column(sa.Text)  # comma-separated
    # The code of Lago's Stripe integration (Lago › Integrations), named in billing_configuration.
    payment_provider_code: Mapped[str] = mapped_column(
        sa.String(120), nullable=False, default="stripe"
    )
    api_base: Mapped[str | None] = mapped_column(sa.String(500))  # empty: Stripe's own
    js_url: Mapped[str | None] = mapped_column(sa.String(500))  # empty: Stripe's own
    account_id: Mapped[str | None] = mapped_column(sa.String(64))
    account_name: Mapped[str | None] = mapped_column(sa.String(255))
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Card(Timestamps, db.Model):
    """A card saved on a tenant's Stripe customer (a Stripe PaymentMethod of type card)."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    stripe_id: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    brand: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="card")
    last4: Mapped[str] = mapped_column(sa.String(4), nullable=False, default="")
    exp_month: Mapped[int | None] = mapped_column()
    exp_year: Mapped[int | None] = mapped_column()
    funding: Mapped[str | None] = mapped_column(sa.String(16))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    wallet: Mapped[str | None] = mapped_column(sa.String(32))
    is_default: Mapped[bool] = mapped_column(nullable=False, default=False)
    stripe_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # when Stripe said so


class CardSetup(Timestamps, db.Model):
    """A card being added: a Stripe SetupIntent and where it stands."""

    __tablename__ = "card_setups"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    setup_intent_id: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    error_code: Mapped[str | None] = mapped_column(sa.String(80))
    payment_method_id: Mapped[str | None] = mapped_column(sa.String(255))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
