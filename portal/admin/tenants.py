"""Tenants and their Lago customer sync."""

from __future__ import annotations

from flask import Response, abort, flash, request, stream_with_context

from portal.access import platform_admin_required
from portal.admin import bp, revenue, tenant_export, tenant_list
from portal.admin.forms import ApplyCouponForm, GrantCreditsForm
from portal.auth.forms import ConfirmForm
from portal.billing import coupons, customers, outage, stripe_link
from portal.billing.connection import NotConnected
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.inputs import page_number
from portal.lago import LagoError
from portal.models import DunningState, Tenant, utcnow
from portal.queues import enqueue
from portal.wallet import services as wallet


@bp.route("/tenants")
@platform_admin_required
def tenants():
    """Every tenant with plan, status, MRR, dunning and sync state, filtered from the URL."""
    filters = tenant_list.Filters.from_args(request.args)
    return render_page(
        "admin/tenants.html",
        fragments={"tenant-table"},
        page=tenant_list.tenant_page(filters, page_number()),
        filters=filters,
        statuses=tenant_list.STATUSES,
        dunning_states=list(DunningState),
        plans=tenant_list.plan_choices(),
        link_state=stripe_link.state,
        confirm=ConfirmForm(),
    )


@bp.route("/tenants.csv")
@platform_admin_required
def tenants_export():
    """The filtered list as CSV, streamed as it is read."""
    filters = tenant_list.Filters.from_args(request.args)
    lines = tenant_export.csv_lines(tenant_list.all_rows(filters))
    response = Response(stream_with_context(lines), mimetype="text/csv")
    day = utcnow().date().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="pier-tenants-{day}.csv"'
    return response


@bp.route("/tenants/revenue")
@platform_admin_required
def tenants_revenue():
    """The revenue card, loaded lazily: it may ask Lago's analytics."""
    return render_page("admin/tenants.html", block="revenue_card", revenue=revenue.revenue())


@bp.route("/tenants/<int:tenant_id>")
@platform_admin_required
def tenant_detail(tenant_id: int):
    """One tenant's billing: the mirrored wallet and coupons, free credits and coupons to give."""
    tenant = db.session.get(Tenant, tenant_id) or abort(404)
    return _tenant_page(tenant, GrantCreditsForm(formdata=None))


def _tenant_page(
    tenant: Tenant,
    grant: GrantCreditsForm,
    status: int = 200,
    apply: ApplyCouponForm | None = None,
):
    apply = apply or ApplyCouponForm(formdata=None)
    offered, catalogue_error = [], None
    try:
        offered = coupons.offered()
    except NotConnected as exc:
        catalogue_error = exc.message
    except LagoError as exc:
        catalogue_error = f"Lago's coupons could not be read: {outage.sentence(exc)}"
    return render_page(
        "admin/tenant.html",
        status=status,
        tenant=tenant,
        account=wallet.account_of(tenant),
        grant=grant,
        applied=coupons.shown(tenant),
        apply=apply.offer(offered),
        catalogue_error=catalogue_error,
        confirm=ConfirmForm(),
    )


@bp.route("/tenants/<int:tenant_id>/coupons", methods=["POST"])
@platform_admin_required
def tenant_apply_coupon(tenant_id: int):
    """Apply one of Lago's coupons to the tenant (audited)."""
    tenant = db.session.get(Tenant, tenant_id) or abort(404)
    form = ApplyCouponForm()
    try:
        form.offer(coupons.offered())
    except (NotConnected, LagoError) as exc:
        return _coupon_failed(tenant, "No coupon was applied", exc)
    if not form.validate_on_submit():
        return _tenant_page(tenant, GrantCreditsForm(formdata=None), status=422, apply=form)
    try:
        applied = coupons.apply(tenant, form.coupon.data)
    except (NotConnected, LagoError, coupons.CouponRefused) as exc:
        return _coupon_failed(tenant, "No coupon was applied", exc)
    db.session.commit()
    flash(f"Coupon {applied.coupon_name} applied to {tenant.name}.", "success")
    return redirect_to("admin.tenant_detail", tenant_id=tenant.id)


@bp.route("/tenants/<int:tenant_id>/coupons/<int:coupon_id>/remove", methods=["POST"])
@platform_admin_required
def tenant_remove_coupon(tenant_id: int, coupon_id: int):
    """Stop one of the tenant's coupons (audited); invoices already issued keep it."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tenant = db.session.get(Tenant, tenant_id) or abort(404)
    try:
        removed = coupons.remove(tenant, coupon_id)
    except (NotConnected, LagoError, coupons.CouponRefused) as exc:
        return _coupon_failed(tenant, "The coupon was not removed", exc)
    if removed is None:
        abort(404)
    db.session.commit()
    flash(f"Coupon {removed.coupon_name} removed from {tenant.name}.", "success")
    return redirect_to("admin.tenant_detail", tenant_id=tenant.id)


def _coupon_failed(tenant: Tenant, what: str, exc: Exception):
    db.session.rollback()
    if isinstance(exc, NotConnected):
        reason = exc.message
    elif isinstance(exc, LagoError):
        reason = outage.sentence(exc)
    else:
        reason = str(exc)
    flash(f"{what}: {reason}", "error")
    return redirect_to("admin.tenant_detail", tenant_id=tenant.id)


@bp.route("/tenants/<int:tenant_id>/credits", methods=["POST"])
@platform_admin_required
def tenant_grant_credits(tenant_id: int):
    """Give a tenant free credits; they count at once (audited)."""
    tenant = db.session.get(Tenant, tenant_id) or abort(404)
    form = GrantCreditsForm()
    if not form.validate_on_submit():
        return _tenant_page(tenant, form, status=422)
    try:
        wallet.grant_credits(tenant, form.credits.data, form.reason.data.strip())
    except NotConnected as exc:
        flash(exc.message, "error")
        return redirect_to("admin.tenant_detail", tenant_id=tenant.id)
    except LagoError as exc:
        db.session.rollback()
        flash(f"No credits were granted: {outage.sentence(exc)}", "error")
        return redirect_to("admin.tenant_detail", tenant_id=tenant.id)
    db.session.commit()
    flash(f"{form.credits.data} credits granted to {tenant.name}.", "success")
    return redirect_to("admin.tenant_detail", tenant_id=tenant.id)


@bp.route("/tenants/<int:tenant_id>/sync", methods=["POST"])
@platform_admin_required
def tenant_sync(tenant_id: int):
    """Retry the tenant's customer sync now."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tenant = db.session.get(Tenant, tenant_id) or abort(404)
    customers.mark_for_sync(tenant)
    db.session.commit()
    if customers.request_sync(tenant.id) is None:
        flash("Redis is unavailable: the sync will run as soon as the queue is back.", "error")
    else:
        flash(f"Sync of {tenant.name} queued.", "success")
    return redirect_to("admin.tenants")


@bp.route("/reconcile", methods=["POST"])
@platform_admin_required
def reconcile_now():
    """Queue a reconciliation of every tenant (or one) with Lago."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tenant_id = request.form.get("tenant_id", type=int)
    job = (
        enqueue("default", "jobs.reconcile.reconcile_one", tenant_id)
        if tenant_id
        else enqueue("default", "jobs.reconcile.reconcile_all")
    )
    if job is None:
        flash(
            "Redis is unavailable: reconciliation could not be queued. Try again shortly.", "error"
        )
    else:
        flash("Reconciliation queued. What it repairs appears in the audit log.", "success")
    return redirect_to("admin.tenants")
