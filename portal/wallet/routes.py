"""Thin views of the wallet page: the mirrored balance at once, Lago's figures lazily."""

from __future__ import annotations

from flask import abort, flash, g
from flask_login import current_user

from portal.access import billing_manager_required, member_required
from portal.billing.connection import NotConnected
from portal.billing.summary import summarize
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.lago import LagoError
from portal.operations.runner import execute, shown_operation
from portal.operations.services import OperationConflict
from portal.usage.routes import customer_sentence
from portal.wallet import bp, low_credits, services
from portal.wallet.forms import CreditsForm, LowCreditsForm

DETAILS = "wallet-details"


def _page(
    form: CreditsForm | None = None,
    status: int = 200,
    low_form: LowCreditsForm | None = None,
    **context,
):
    tenant = g.tenant
    account = services.account_of(tenant)
    if low_form is None:
        low_form = LowCreditsForm(formdata=None, level=low_credits.level_of(account))
    return render_page(
        "wallet/index.html",
        status=status,
        fragments={DETAILS},
        summary=summarize(tenant),
        account=account,
        form=form or CreditsForm(),
        low_form=low_form,
        currency=services.currency_of(tenant),
        operation=shown_operation(tenant.id),
        **context,
    )


@bp.route("/")
@member_required
def index():
    """Prepaid credits: the balance Pier holds; the live part loads from `details`."""
    return _page()


@bp.route("/details")
@member_required
def details():
    """The wallet page with Lago's balances and transactions (htmx takes that part alone)."""
    try:
        view = services.read_wallet(g.tenant)
        db.session.commit()
        return _page(view=view)
    except NotConnected:
        return _page(details_error="Billing is not connected yet.")
    except LagoError as error:
        db.session.rollback()
        return _page(details_error=customer_sentence(error))


@bp.route("/top-up", methods=["POST"])
@billing_manager_required
def top_up():
    """Buy credits: an operation that leaves a credit invoice to pay."""
    form = CreditsForm()
    if not form.validate_on_submit():
        if not form.key.data or form.csrf_token.errors:
            abort(400)
        return _page(form, status=422)
    try:
        operation = services.plan_top_up(
            g.tenant, current_user.id, form.key.data, form.credits.data
        )
    except OperationConflict as refusal:
        db.session.rollback()
        form.credits.errors = [str(refusal)]
        return _page(form, status=422)
    operation = execute(operation, lambda: services.send_top_up(g.tenant, operation))
    return redirect_to("wallet.index", operation=operation.id)


@bp.route("/low-credits", methods=["POST"], endpoint="low_credits")
@billing_manager_required
def low_credits_level():
    """Set (or, left empty, turn off) the level under which credits are "running low"."""
    form = LowCreditsForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(low_form=form, status=422)
    low_credits.set_level(g.tenant, form.level.data)
    db.session.commit()
    if form.level.data is None:
        flash("Low-credits warning turned off.", "success")
    else:
        flash("Saved: you will hear when your credits fall below this level.", "success")
    return redirect_to("wallet.index")
