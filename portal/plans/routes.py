"""Thin views: the plans page, its preview block, and the confirm of a change or a start."""

from __future__ import annotations

from flask import abort, flash, g, request
from flask_login import current_user

from portal.access import billing_manager_required, current_membership, member_required
from portal.billing import plan_features
from portal.billing.connection import NotConnected, get_connection
from portal.billing.summary import INTERVAL_WORDS, summarize
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.models import utcnow
from portal.operations.runner import execute
from portal.operations.services import OperationConflict
from portal.plans import bp, services
from portal.plans.forms import ChangeForm
from portal.subscription.services import NothingToChange

FRAGMENTS = ("plan-preview",)


def _page(summary, *, preview=None, form=None, status: int = 200):
    plans = services.offered(summary)
    groups = services.families(plans)
    current = summary.plan
    default = current.interval if current is not None else "monthly"
    interval = request.args.get("billing") or default
    if interval not in services.INTERVAL_ORDER:
        interval = default
    return render_page(
        "plans/index.html",
        status=status,
        fragments=FRAGMENTS,
        summary=summary,
        groups=groups,
        toggle=services.has_toggle(groups),
        interval=interval,
        manages=current_membership().role.can_manage_billing,
        charge_words=services.charge_words,
        granted=plan_features.granted,
        interval_words=INTERVAL_WORDS,
        preview=preview,
        lost=plan_features.lost(current, preview.target) if preview and current else [],
        form=form or ChangeForm(),
    )


@bp.route("/")
@member_required
def index():
    """Compare the plans this organisation may move to (members read only)."""
    return _page(summarize(g.tenant))


def _target(summary, code: str):
    target = services.allowed_target(summary, code)
    if target is None:
        abort(404)
    return target


@bp.route("/<code>/preview")
@billing_manager_required
def preview(code: str):
    """What choosing `code` does, explained, with the confirm form (an htmx block)."""
    summary = summarize(g.tenant)
    target = _target(summary, code)
    try:
        shown = services.preview(g.tenant, summary, target, utcnow())
    except NotConnected:
        flash("Billing is not connected yet, so plans cannot be changed.", "error")
        return redirect_to("plans.index")
    return _page(summary, preview=shown)


def _refused(message: str):
    db.session.rollback()
    flash(message, "error")
    return redirect_to("plans.index")


@bp.route("/<code>/change", methods=["POST"])
@billing_manager_required
def change(code: str):
    """Confirm a plan change (or a start, for an organisation without a subscription)."""
    form = ChangeForm()
    if not form.validate_on_submit():
        abort(400)
    if get_connection() is None:
        return _refused("Billing is not connected yet, so plans cannot be changed.")
    summary = summarize(g.tenant)
    target = services.allowed_target(summary, code)
    if target is None:
        return _refused("That plan is not offered to your organisation. Nothing was changed.")
    live = summary.subscription is not None and summary.subscription.status == "active"
    try:
        if live:
            operation = services.plan_change(
                g.tenant,
                summary,
                current_user.id,
                form.key.data,
                target,
                clear_cancellation=form.cancellation.data == "clear",
            )
        else:
            operation = services.plan_start(
                g.tenant, summary, current_user.id, form.key.data, target
            )
    except (NothingToChange, OperationConflict) as refusal:
        return _refused(str(refusal))
    operation = execute(operation, lambda: services.send(g.tenant, operation))
    return redirect_to("home.index", operation=operation.id)
