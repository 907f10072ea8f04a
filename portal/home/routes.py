"""Landing page of a signed-in person."""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask_login import current_user, login_required

from portal.access import current_membership, switch_tenant
from portal.auth.forms import ConfirmForm
from portal.banners.services import COVERED_NOTICES, banners_for
from portal.billing import outage
from portal.billing.summary import summarize
from portal.home import bp
from portal.htmx import redirect_to, render_page
from portal.models import utcnow
from portal.notify import notices
from portal.operations.runner import shown_operation


@bp.route("/")
def index():
    """The current tenant's overview; admins without a tenant go to the admin console."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    membership = current_membership()
    if membership is None:
        if current_user.is_platform_admin:
            return redirect(url_for("admin.index"))
        return render_page("home/no_tenant.html")
    return render_page(
        "home/index.html",
        fragments={"billing-summary"},
        membership=membership,
        tenant=membership.tenant,
        now=utcnow(),
        summary=summarize(membership.tenant),
        operation=shown_operation(membership.tenant_id),
        notices=[
            n for n in notices.for_tenant(membership.tenant_id) if n.kind not in COVERED_NOTICES
        ],
        banners=banners_for(membership.tenant, membership.role),
        lago_outage=outage.current_outage(who="The billing system"),
    )


@bp.route("/tenants/<int:tenant_id>/switch", methods=["POST"])
@login_required
def switch(tenant_id: int):
    """Work in another organisation the person belongs to."""
    if not ConfirmForm().validate_on_submit() or not switch_tenant(tenant_id):
        abort(404)
    return redirect_to("home.index")
