"""Thin views: validate the form, record the operation, carry it out, show where it stands."""

from __future__ import annotations

from flask import abort, flash, g, request
from flask_login import current_user

from portal.access import billing_manager_required, member_required
from portal.auth.forms import ConfirmForm
from portal.billing import outage, plan_features, reconcile
from portal.billing.connection import NotConnected
from portal.billing.sentences import for_customer
from portal.billing.summary import summarize
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.lago import LagoError, LagoUnavailable
from portal.operations.runner import execute
from portal.operations.services import OperationConflict
from portal.subscription import bp, services
from portal.subscription.forms import ActionForm, CancelForm


def _done(operation):
    return redirect_to("home.index", operation=operation.id)


def _refused(message: str):
    flash(message, "error")
    return redirect_to("home.index")


@bp.route("/refresh", methods=["POST"])
@member_required
def refresh():
    """Read the subscription again from Lago (members too: it changes nothing in Lago)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        reconcile.reconcile_tenant(g.tenant)
    except NotConnected:
        db.session.rollback()
        flash("Billing is not connected yet, so there is nothing newer to show.", "error")
        return redirect_to("home.index")
    except LagoUnavailable as error:
        db.session.rollback()
        flash(outage.not_answering(error.known_at, "The billing system"), "error")
        return redirect_to("home.index")
    except LagoError as error:
        db.session.rollback()
        flash(for_customer(error).replace("Nothing was changed.", "").strip(), "error")
        return redirect_to("home.index")
    db.session.commit()
    return redirect_to("home.index")


@bp.route("/cancel", methods=["GET", "POST"])
@billing_manager_required
def cancel():
    """The cancel dialog: what is lost, when it ends, and an optional reason."""
    summary = summarize(g.tenant)
    if summary.subscription is None or summary.subscription.status != "active":
        return _refused("There is no active subscription to cancel.")
    form = CancelForm()
    if not form.validate_on_submit():
        credit_note, invoice = services.termination_settings()
        return render_page(
            "subscription/cancel.html",
            status=422 if request.method == "POST" else 200,
            form=form,
            summary=summary,
            credit_note_words=services.CREDIT_NOTE_WORDS.get(credit_note, ""),
            invoice=invoice,
            lost=plan_features.lost(summary.plan, None),
        )
    try:
        operation = services.plan_cancellation(
            g.tenant,
            current_user.id,
            form.key.data,
            when=form.when.data,
            reason=form.reason.data or "",
            details=(form.details.data or "").strip(),
        )
    except (services.NothingToChange, OperationConflict) as refusal:
        db.session.rollback()
        return _refused(str(refusal))
    return _done(execute(operation, lambda: services.send_cancellation(g.tenant, operation)))


def _button_action(plan, send):
    """A one-button action: validate, record, carry out, show where it stands."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operation = plan(g.tenant, current_user.id, form.key.data)
    except (services.NothingToChange, OperationConflict) as refusal:
        db.session.rollback()
        return _refused(str(refusal))
    return _done(execute(operation, lambda: send(g.tenant, operation)))


@bp.route("/reactivate", methods=["POST"])
@billing_manager_required
def reactivate():
    """Undo a scheduled cancellation before it takes effect."""
    return _button_action(services.plan_reactivation, services.send_reactivation)


@bp.route("/undo-downgrade", methods=["POST"])
@billing_manager_required
def undo_downgrade():
    """Keep the current plan: drop the pending downgrade."""
    return _button_action(services.plan_downgrade_undo, services.send_downgrade_undo)
