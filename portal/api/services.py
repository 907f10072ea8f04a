"""What the API does to tenants: create, change, invite the first owner (callers commit)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal import audit
from portal.billing.customers import mark_for_sync, plan_for_new_tenant
from portal.extensions import db
from portal.models import Invitation, Role, Tenant
from portal.team.services import invite_member

EDITABLE = ("name", "billing_email", "timezone", "currency", "country", "custom_metadata")


def create_tenant(values: dict[str, Any]) -> Tenant:
    """A new organisation; its Lago customer follows through the customer sync."""
    tenant = Tenant(
        name=values["name"],
        billing_email=values.get("billing_email"),
        timezone=values.get("timezone") or "UTC",
        currency=values.get("currency"),
        country=values.get("country"),
        custom_metadata=values.get("custom_metadata") or {},
        plan_to_assign=plan_for_new_tenant(),
    )
    db.session.add(tenant)
    db.session.flush()
    mark_for_sync(tenant)
    audit.record(
        "tenant.created",
        target=tenant,
        tenant_id=tenant.id,
        after={"name": tenant.name, "external_id": tenant.external_id, "through": "api"},
    )
    return tenant


def update_tenant(tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    """Apply the given fields; the Lago customer is written again when something changed."""
    changed = {
        key: value
        for key, value in values.items()
        if key in EDITABLE and getattr(tenant, key) != value
    }
    if not changed:
        return {}
    before = {key: getattr(tenant, key) for key in changed}
    for key, value in changed.items():
        setattr(tenant, key, value)
    mark_for_sync(tenant)
    audit.record("tenant.updated", target=tenant, tenant_id=tenant.id, before=before, after=changed)
    return changed


def tenant_page(after: Tenant | None, limit: int) -> tuple[list[Tenant], bool]:
    """Tenants in creation order after the given one (keyset), and whether more follow."""
    query = sa.select(Tenant).order_by(Tenant.id).limit(limit + 1)
    if after is not None:
        query = query.where(Tenant.id > after.id)
    rows = list(db.session.scalars(query))
    return rows[:limit], len(rows) > limit


def by_external_id(external_id: str) -> Tenant | None:
    if len(external_id) > 64:
        return None
    return db.session.scalar(sa.select(Tenant).where(Tenant.external_id == external_id))


def invite_owner(tenant: Tenant, email: str) -> tuple[Invitation, str]:
    """Invite an owner on the platform's behalf (the team's invitation, emailed by the caller)."""
    return invite_member(tenant, None, email, Role.owner)
