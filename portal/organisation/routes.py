"""The organisation page: its details and where its billing account stands."""

from __future__ import annotations

from flask import flash, g

from portal.access import billing_manager_required
from portal.billing.customers import sync_after_commit
from portal.extensions import db
from portal.htmx import is_htmx, redirect_to, render_page
from portal.organisation import bp
from portal.organisation.forms import OrganisationForm
from portal.organisation.services import FIELDS, update_organisation


@bp.route("/", methods=["GET", "POST"])
@billing_manager_required
def details():
    """See and edit the organisation's billing details."""
    form = OrganisationForm(obj=g.tenant)
    if form.validate_on_submit():
        changed = update_organisation(g.tenant, {name: getattr(form, name).data for name in FIELDS})
        db.session.commit()
        if changed:
            sync_after_commit(g.tenant.id)
            flash("Saved. Your billing account is being updated.", "success")
        else:
            flash("Nothing to change.", "info")
        return redirect_to("organisation.details")
    status = 422 if form.is_submitted() and is_htmx() else 200
    return render_page("organisation/details.html", form=form, tenant=g.tenant, status=status)
