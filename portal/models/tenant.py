"""Tenants (customer organisations) and their members."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import Timestamps, UTCDateTime


def new_external_id() -> str:
    """A stable, opaque id that names the tenant in Lago."""
    return f"pier_{uuid.uuid4().hex}"


class SyncState(enum.StrEnum):
    """Where the tenant stands with its Lago customer."""

    pending = "pending"
    synced = "synced"
    failed = "failed"


class Role(enum.StrEnum):
    """A member's role in a tenant: members read, owners and billing admins change billing."""

    owner = "owner"
    billing_admin = "billing_admin"
    member = "member"

    @property
    def label(self) -> str:
        return {"owner": "Owner", "billing_admin": "Billing admin", "member": "Member"}[self.value]

    @property
    def can_manage_billing(self) -> bool:
        return self in (Role.owner, Role.billing_admin)


class Tenant(Timestamps, db.Model):
    """A customer organisation; one Lago customer."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    external_id: Mapped[str] = mapped_column(
        sa.String(64), unique=True, nullable=False, default=new_external_id
    )
    billing_email: Mapped[str | None] = mapped_column(sa.String(254))
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="UTC")
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    address_line1: Mapped[str | None] = mapped_column(sa.String(255))
    address_line2: Mapped[str | None] = mapped_column(sa.String(255))
    city: Mapped[str | None] = mapped_column(sa.String(120))
    zipcode: Mapped[str | None] = mapped_column(sa.String(20))
    state: Mapped[str | None] = mapped_column(sa.String(120))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    tax_identification_number: Mapped[str | None] = mapped_column(sa.String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # Key/value facts the host application keeps on the organisation (e.g. created_by_user_id).
    custom_metadata: Mapped[dict] = mapped_column(
        "metadata", sa.JSON, nullable=False, default=dict, server_default=sa.text("'{}'")
    )
    lago_customer_id: Mapped[str | None] = mapped_column(sa.String(64))
    # The external id of a Lago customer an older integration created (keyed by a user id) and
    # that Lago cannot re-key because it has billing history; Pier then addresses it by this.
    legacy_external_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    # The plan a new organisation is given in Lago once its customer exists; cleared once given.
    plan_to_assign: Mapped[str | None] = mapped_column(sa.String(255))
    sync_state: Mapped[SyncState] = mapped_column(
        sa.Enum(SyncState, native_enum=False, length=16, validate_strings=True),
        nullable=False,
        default=SyncState.pending,
    )
    sync_attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    sync_last_error: Mapped[str | None] = mapped_column(sa.Text)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sync_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan"
    )

    @property
    def customer_external_id(self) -> str:
        """The external id of the tenant's Lago customer: its own, unless mapped to a legacy one."""
        return self.legacy_external_id or self.external_id

    def __repr__(self) -> str:
        return f"<Tenant {self.id} {self.name!r}>"


class Membership(Timestamps, db.Model):
    """A user's place in a tenant, with a role."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=16, validate_strings=True), nullable=False
    )

    user = relationship("User", back_populates="memberships")
    tenant: Mapped[Tenant] = relationship(back_populates="memberships")


class Invitation(Timestamps, db.Model):
    """An emailed invitation to join a tenant; only a hash of its token is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=16, validate_strings=True), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tenant: Mapped[Tenant] = relationship()
    invited_by = relationship("User")

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now
