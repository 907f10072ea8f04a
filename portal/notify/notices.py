"""In-app notices: one per fact, keyed by the fact, resolved when the fact no longer holds."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from portal.billing.mirror import dialect_insert
from portal.extensions import db
from portal.models import Notice, utcnow

LEVELS = ("error", "warning", "info")


def find(key: str) -> Notice | None:
    """The notice for this fact, as stored now."""
    query = sa.select(Notice).where(Notice.key == key).execution_options(populate_existing=True)
    return db.session.scalar(query)


def raise_notice(
    key: str,
    *,
    tenant_id: int | None,
    kind: str,
    title: str,
    body: str,
    level: str = "info",
    now: datetime | None = None,
) -> bool:
    """Open the notice (or refresh its words); True when it was not open before.

    A resolved notice is reopened with a new `created_at`: the fact holds again.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    now = now or utcnow()
    existing = find(key)
    opened = existing is None or existing.resolved_at is not None
    stmt = dialect_insert(Notice).values(
        key=key,
        tenant_id=tenant_id,
        kind=kind,
        level=level,
        title=title[:255],
        body=body,
        created_at=now,
        resolved_at=None,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "title": stmt.excluded.title,
            "body": stmt.excluded.body,
            "level": stmt.excluded.level,
            "created_at": sa.case(
                (Notice.resolved_at.is_(None), Notice.created_at),
                else_=stmt.excluded.created_at,
            ),
            "resolved_at": None,
        },
    )
    db.session.execute(stmt)
    find(key)  # the session's copy now shows what was written
    return opened


def resolve(key: str, *, now: datetime | None = None) -> bool:
    """Mark the fact as no longer holding; True when an open notice was resolved."""
    result = db.session.execute(
        sa.update(Notice)
        .where(Notice.key == key, Notice.resolved_at.is_(None))
        .values(resolved_at=now or utcnow())
    )
    return result.rowcount > 0


def open_with_prefix(prefix: str, *, tenant_id: int | None) -> list[Notice]:
    """Open notices whose key starts with `prefix`, for one tenant (or the platform admins)."""
    owner = Notice.tenant_id.is_(None) if tenant_id is None else Notice.tenant_id == tenant_id
    query = (
        sa.select(Notice)
        .where(owner, Notice.key.startswith(prefix, autoescape=True), Notice.resolved_at.is_(None))
        .order_by(Notice.id)
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(query))


def for_tenant(tenant_id: int) -> list[Notice]:
    """A tenant's open notices, most serious first, then newest first."""
    severity = sa.case({level: rank for rank, level in enumerate(LEVELS)}, value=Notice.level)
    query = (
        sa.select(Notice)
        .where(Notice.tenant_id == tenant_id, Notice.resolved_at.is_(None))
        .order_by(severity, Notice.created_at.desc(), Notice.id.desc())
    )
    return list(db.session.scalars(query))


def for_admins() -> list[Notice]:
    """Open notices meant for platform admins (no tenant), newest first."""
    query = (
        sa.select(Notice)
        .where(Notice.tenant_id.is_(None), Notice.resolved_at.is_(None))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    )
    return list(db.session.scalars(query))
