"""Coupons applied to a tenant: mirrored from Lago for the billing home, applied and removed by
platform admins (audited), and Lago's refusals in sentences."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from portal import audit
from portal.billing import mirror
from portal.billing.connection import lago_client
from portal.extensions import db
from portal.lago import AppliedCoupon, Coupon, LagoClient, LagoError
from portal.lago.errors import LagoNotAllowed, LagoNotFound, LagoValidationError
from portal.models import AppliedCouponMirror, Tenant, utcnow

REFUSALS = {
    "coupon_is_not_reusable": "This coupon can be applied to a customer only once, and it was.",
    "coupon_not_found": "This coupon is no longer active in Lago (terminated or expired).",
    "applied_coupon_not_found": "This coupon is no longer applied to the customer.",
    "customer_not_found": "The tenant has no Lago customer yet: run its sync first.",
    "plan_overlapping": "The customer already has a coupon on the same plans or metrics.",
}


class CouponRefused(Exception):
    """Lago refused to apply or remove a coupon; the message is a sentence."""


def refusal(error: LagoError) -> str:
    """Lago's 422, 404 and 405 on coupons, in words; None for other failures."""
    codes = [error.code or ""]
    if isinstance(error, LagoValidationError):
        codes = [code for found in error.field_errors.values() for code in found] + codes
    for code in codes:
        if code in REFUSALS:
            return REFUSALS[code]
    if isinstance(error, LagoValidationError):
        return "Lago did not accept this coupon for the customer."
    return None


def pull(tenant: Tenant, client: LagoClient, now: datetime | None = None) -> None:
    """Mirror every coupon applied to the tenant, as Lago lists them now."""
    now = now or utcnow()
    mirror.replace_applied_coupons(
        tenant, client.list_applied_coupons(tenant.customer_external_id), now
    )


def shown(tenant: Tenant) -> list[AppliedCouponMirror]:
    """The tenant's coupons still taking money off, oldest first (the order Lago uses them)."""
    return list(
        db.session.scalars(
            sa.select(AppliedCouponMirror)
            .where(
                AppliedCouponMirror.tenant_id == tenant.id, AppliedCouponMirror.status == "active"
            )
            .order_by(AppliedCouponMirror.applied_at, AppliedCouponMirror.id)
        )
    )


def offered() -> list[Coupon]:
    """Lago's coupons that can still be applied."""
    return [c for c in lago_client().list_coupons() if c.terminated_at is None]


def _audit(action: str, tenant: Tenant, applied: AppliedCoupon) -> None:
    audit.record(
        action,
        tenant_id=tenant.id,
        target=tenant,
        after={
            "coupon": applied.coupon_code,
            "applied_coupon": applied.lago_id,
            "status": applied.status,
        },
    )


def _refused(error: LagoError) -> None:
    sentence = refusal(error)
    if sentence is not None:
        raise CouponRefused(sentence) from error


def apply(tenant: Tenant, coupon_code: str) -> AppliedCoupon:
    """Apply one of Lago's coupons to the tenant on the coupon's terms (audited)."""
    try:
        applied = lago_client().apply_coupon(tenant.customer_external_id, coupon_code)
    except (LagoValidationError, LagoNotFound, LagoNotAllowed) as error:
        _refused(error)
        raise
    mirror.upsert_applied_coupon(tenant, applied, utcnow())
    _audit("coupon.apply", tenant, applied)
    return applied


def remove(tenant: Tenant, mirror_id: int) -> AppliedCoupon | None:
    """Stop one of the tenant's coupons (audited); None when it is not the tenant's."""
    row = db.session.scalar(
        sa.select(AppliedCouponMirror).filter_by(id=mirror_id, tenant_id=tenant.id)
    )
    if row is None:
        return None
    try:
        applied = lago_client().remove_applied_coupon(tenant.customer_external_id, row.lago_id)
    except (LagoValidationError, LagoNotFound, LagoNotAllowed) as error:
        _refused(error)
        raise
    mirror.upsert_applied_coupon(tenant, applied, utcnow())
    _audit("coupon.remove", tenant, applied)
    return applied
