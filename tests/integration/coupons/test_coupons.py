"""Coupons applied to a tenant: Pier's Lago client, the mirror, the billing home, and the
admin's apply and remove (audited, Lago's refusals in sentences, tenants kept apart)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.billing.connection import lago_client
from portal.extensions import db
from portal.lago import LagoValidationError
from portal.models import AppliedCouponMirror, AuditEntry
from tests.integration.billing.support import text_of
from tests.integration.coupons.conftest import FEB
from tests.integration.handlers.support import lago_call


def _applied(app, tenant_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AppliedCouponMirror)
            .filter_by(tenant_id=tenant_id)
            .order_by(AppliedCouponMirror.id)
        )
        return [(row.coupon_code, row.status) for row in rows]


def _apply(admin, tenant_id: int, code: str):
    admin.get(f"/admin/tenants/{tenant_id}")
    return admin.submit(f"/admin/tenants/{tenant_id}/coupons", {"coupon": code})


def _coupons_on_home(client) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    found = re.findall(r'<li data-coupon="[^"]+">(.*?)</li>', html, re.S)
    inline = r"</?(strong|span|time|small)\b[^>]*>"
    return [re.sub(r"\s+", " ", re.sub(inline, "", item)).strip() for item in found]


def test_the_client_applies_lists_and_removes(app, subscribed, connected):
    with app.app_context():
        client = lago_client()
        offered = {c.code: c for c in client.list_coupons()}
        applied = client.apply_coupon("pier_acme", "quarter_off")
        listed = client.list_applied_coupons("pier_acme")
        client.apply_coupon("pier_acme", "welcome")
        with pytest.raises(LagoValidationError) as refused:
            client.apply_coupon("pier_acme", "welcome")  # not reusable
        removed = client.remove_applied_coupon("pier_acme", applied.lago_id)
        active = client.list_applied_coupons("pier_acme", status="active")
    assert set(offered) == {"welcome", "quarter_off", "loyal"}
    assert offered["quarter_off"].percentage_rate == 25 and offered["welcome"].reusable is False
    assert offered["loyal"].expiration_at.isoformat() == "2030-03-01T00:00:00+00:00"
    assert (applied.coupon_code, applied.status, applied.frequency) == (
        "quarter_off",
        "active",
        "recurring",
    )
    assert applied.frequency_duration_remaining == 2
    assert [a.lago_id for a in listed] == [applied.lago_id]
    assert refused.value.field_errors == {"coupon": ["coupon_is_not_reusable"]}
    assert removed.status == "terminated" and removed.terminated_at is not None
    assert [a.coupon_code for a in active] == ["welcome"]


def test_admins_apply_and_remove_coupons_audited(app, admin, subscribed, connected, client_as):
    page = admin.get(f"/admin/tenants/{subscribed.id}").get_data(as_text=True)
    assert "No coupon applies to this tenant." in page
    assert '<option value="loyal">Loyal (loyal)</option>' in page

    assert _apply(admin, subscribed.id, "loyal").status_code == 303
    assert _apply(admin, subscribed.id, "quarter_off").status_code == 303
    assert _applied(app, subscribed.id) == [("loyal", "active"), ("quarter_off", "active")]
    [lago_quarter, lago_loyal] = lago_call(
        connected, "GET", "/customers/pier_acme/applied_coupons"
    )["applied_coupons"]  # newest first
    assert (lago_loyal["coupon_code"], lago_quarter["coupon_code"]) == ("loyal", "quarter_off")

    # The customer's billing home, members included, from the mirror.
    assert _coupons_on_home(client_as("member")) == [
        "Loyal: $5.00 off · on every invoice · coupon offered until March 1, 2030",
        "Quarter Off: 25% off · 2 more billing periods",
    ]

    with app.app_context():
        loyal_id = db.session.scalar(
            sa.select(AppliedCouponMirror.id).filter_by(coupon_code="loyal")
        )
    removed = admin.submit(f"/admin/tenants/{subscribed.id}/coupons/{loyal_id}/remove")
    assert removed.status_code == 303
    assert _applied(app, subscribed.id) == [("loyal", "terminated"), ("quarter_off", "active")]
    assert [c.split(":")[0] for c in _coupons_on_home(client_as("owner"))] == ["Quarter Off"]
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.like("coupon.%")).order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.after["coupon"], e.tenant_id) for e in entries] == [
        ("coupon.apply", "loyal", subscribed.id),
        ("coupon.apply", "quarter_off", subscribed.id),
        ("coupon.remove", "loyal", subscribed.id),
    ]
    assert all(e.actor_id is not None for e in entries)


def test_lago_s_refusals_are_sentences_and_change_nothing(app, admin, subscribed, connected):
    assert _apply(admin, subscribed.id, "welcome").status_code == 303
    again = _apply(admin, subscribed.id, "welcome")
    assert again.status_code == 303
    page = text_of(admin.get(f"/admin/tenants/{subscribed.id}"))
    assert (
        "No coupon was applied: This coupon can be applied to a customer only once, and it was."
        in page
    )
    # A coupon Lago terminated once its time limit passed is no longer offered.
    connected.travel_to("2030-03-02T00:00:00Z")
    page = admin.get(f"/admin/tenants/{subscribed.id}").get_data(as_text=True)
    assert 'value="loyal"' not in page and 'value="quarter_off"' in page
    stale = admin.submit(f"/admin/tenants/{subscribed.id}/coupons", {"coupon": "loyal"})
    assert stale.status_code == 422
    assert "Not a valid choice" in stale.get_data(as_text=True)
    empty = admin.submit(f"/admin/tenants/{subscribed.id}/coupons", {"coupon": ""})
    assert empty.status_code == 422 and "Choose a coupon." in empty.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(AuditEntry).filter_by(action="coupon.apply")
            )
            == 1
        )
    assert _applied(app, subscribed.id) == [("welcome", "active")]


def test_tenants_cannot_apply_and_other_tenants_coupons_are_404(
    app, admin, subscribed, client_as, as_role
):
    assert _apply(admin, subscribed.id, "loyal").status_code == 303
    with app.app_context():
        coupon_id = db.session.scalar(sa.select(AppliedCouponMirror.id))
    for role in ("owner", "billing_admin", "member"):
        client = client_as(role)
        assert client.submit(
            f"/admin/tenants/{subscribed.id}/coupons", {"coupon": "loyal"}
        ).status_code in (403, 404)
        assert client.submit(
            f"/admin/tenants/{subscribed.id}/coupons/{coupon_id}/remove"
        ).status_code in (403, 404)
    _, other = as_role("other_tenant")
    wrong = admin.submit(f"/admin/tenants/{other.tenant_id}/coupons/{coupon_id}/remove")
    assert wrong.status_code == 404
    assert admin.submit("/admin/tenants/999999/coupons", {"coupon": "loyal"}).status_code == 404
    forged = admin.post(
        f"/admin/tenants/{subscribed.id}/coupons/{coupon_id}/remove",
        data={"csrf_token": "forged"},
    )
    assert forged.status_code == 400
    assert _applied(app, subscribed.id) == [("loyal", "active")]


def test_the_mirror_follows_lago_on_refresh_and_on_invoices(
    app, subscribed, connected, client_as, outbox
):
    lago_call(
        connected,
        "POST",
        "/applied_coupons",
        json={
            "applied_coupon": {"external_customer_id": "pier_acme", "coupon_code": "quarter_off"}
        },
    )
    owner = client_as("owner")
    assert _coupons_on_home(owner) == []  # not read yet
    owner.get("/")
    assert owner.submit("/subscription/refresh").status_code == 303
    assert _coupons_on_home(owner) == ["Quarter Off: 25% off · 2 more billing periods"]

    outbox.dispatch_new()
    connected.travel_to(FEB)  # February billed in advance: a quarter off $29.00
    [february] = [
        i
        for i in lago_call(connected, "GET", "/invoices", params={"invoice_type": "subscription"})[
            "invoices"
        ]
        if i["coupons_amount_cents"]
    ]
    assert february["coupons_amount_cents"] == 725
    outbox.dispatch_new()  # invoice.created: the coupons are read again
    assert _coupons_on_home(owner) == ["Quarter Off: 25% off · 1 more billing period"]

    # The invoice's page prints the coupon before the subtotal, as Lago counts it.
    fragment = {"HX-Request": "true", "HX-Target": "invoice-lines"}
    lines = owner.get(f"/invoices/{february['lago_id']}/lines", headers=fragment)
    rows = [
        (kind, re.sub(r"<[^>]+>", "|", row))
        for kind, row in re.findall(r'<tr(?: data-line="(\w+)")?>(.*?)</tr>', lines.text, re.S)
    ]
    printed = [(kind, [c for c in row.split("|") if c.strip()]) for kind, row in rows]
    tail = [(kind, cells[0], cells[-1]) for kind, cells in printed if kind != "fee"][1:]
    assert tail == [
        ("coupon", "Coupon: Quarter Off", "-$7.25"),
        ("", "Subtotal before tax", "$21.75"),
        ("", "Total", "$21.75"),
    ]
