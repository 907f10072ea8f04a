"""Change the organisation's details and queue the Lago update."""

from __future__ import annotations

from portal import audit
from portal.billing.customers import mark_for_sync
from portal.models import Tenant

FIELDS = (
    "name",
    "billing_email",
    "address_line1",
    "address_line2",
    "city",
    "zipcode",
    "state",
    "country",
    "tax_identification_number",
    "timezone",
)


def update_organisation(tenant: Tenant, values: dict) -> dict:
    """Apply the changes, audit them and mark the Lago customer for update (the caller commits)."""
    cleaned = {
        key: (values[key].strip() or None) if isinstance(values[key], str) else values[key]
        for key in FIELDS
    }
    changed = {key: value for key, value in cleaned.items() if getattr(tenant, key) != value}
    if not changed:
        return {}
    before = {key: getattr(tenant, key) for key in changed}
    for key, value in changed.items():
        setattr(tenant, key, value)
    mark_for_sync(tenant)
    audit.record("tenant.updated", target=tenant, tenant_id=tenant.id, before=before, after=changed)
    return changed
