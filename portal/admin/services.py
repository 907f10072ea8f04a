"""Read models for the platform admin console."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, SyncState, Tenant, User

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class PlatformCounts:
    tenants: int
    users: int
    tenants_not_synced: int


def platform_counts() -> PlatformCounts:
    """Headline numbers for the dashboard."""
    count = sa.func.count()
    return PlatformCounts(
        tenants=db.session.scalar(sa.select(count).select_from(Tenant)) or 0,
        users=db.session.scalar(sa.select(count).select_from(User)) or 0,
        tenants_not_synced=db.session.scalar(
            sa.select(count).select_from(Tenant).where(Tenant.sync_state != SyncState.synced)
        )
        or 0,
    )


def recent_tenants(limit: int = 20) -> list[Tenant]:
    """The newest tenants."""
    return list(
        db.session.scalars(
            sa.select(Tenant).order_by(Tenant.created_at.desc(), Tenant.id.desc()).limit(limit)
        )
    )


def audit_page(*, page: int = 1, action: str = "", actor: str = "", request_id: str = ""):
    """One page of the audit log, newest first, filtered by action prefix, actor email and the
    request id of the action (as the logs show it)."""
    query = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if request_id:
        query = query.where(AuditEntry.request_id == request_id)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.join(User, AuditEntry.actor_id == User.id).where(
            sa.func.lower(User.email).contains(actor.lower(), autoescape=True)
        )
    return db.paginate(query, page=page, per_page=AUDIT_PAGE_SIZE, error_out=False)
