"""Thin views of the usage page; its live parts load lazily as declared fragments."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, request
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import billing_manager_required, member_required
from portal.auth.forms import ConfirmForm
from portal.billing import outage
from portal.billing.connection import NotConnected
from portal.billing.sentences import for_customer
from portal.billing.summary import summarize
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.lago import LagoError, LagoUnavailable
from portal.models import Plan
from portal.usage import alerts, bp, compare, current, history, lago_alerts
from portal.usage.forms import AMOUNT, AlertForm

CURRENT = "usage-current"
HISTORY = "usage-history"


def customer_sentence(error: LagoError) -> str:
    """Why a live part is missing, in the customer's words."""
    if isinstance(error, LagoUnavailable):
        return outage.not_answering(error.known_at, "The billing system")
    return for_customer(error).replace("Nothing was changed.", "").strip()


def _current_part(zone: str) -> dict:
    """The current period for the lazy fragment (recorded for later comparisons, and compared
    with the last period at the same day), or the sentence saying why it is missing."""
    tenant = g.tenant
    try:
        usage = current.current_usage(tenant, fresh=request.args.get("fresh") == "1")
        compare.record_all(tenant, usage, zone)
        db.session.commit()
        comparisons = {
            sub.external_id: compare.compare(tenant, sub, usage.as_of, zone)
            for sub in usage.subscriptions
        }
        return {"usage": usage, "comparisons": comparisons}
    except NotConnected:
        return {"usage_error": "Billing is not connected yet, so there is no usage to show."}
    except LagoError as error:
        return {"usage_error": customer_sentence(error)}


def metric_choices(tenant) -> list[SelectChoice]:
    """The whole amount, then the metrics of the tenant's current plans."""
    choices, seen = [SelectChoice(AMOUNT, "The usage amount")], set()
    for subscription in current.active_subscriptions(tenant):
        plan = db.session.scalar(sa.select(Plan).filter_by(code=subscription.plan_code))
        for charge in plan.charges if plan else []:
            code = charge.get("billable_metric_code")
            if code and code not in seen:
                seen.add(code)
                choices.append(SelectChoice(code, charge.get("invoice_display_name") or code))
    return choices


def _alert_form(tenant) -> AlertForm:
    form = AlertForm()
    form.metric.choices = metric_choices(tenant)
    return form


def _page(*, status: int = 200, form=None, summary=None, **kwargs):
    tenant = g.tenant
    return render_page(
        "usage/index.html",
        status=status,
        summary=summary or summarize(tenant),
        alerts=alerts.for_tenant(tenant),
        alert_form=form or _alert_form(tenant),
        **kwargs,
    )


@bp.route("/")
@member_required
def index():
    """The usage page; its live parts load lazily from `current`."""
    return _page()


@bp.route("/alerts", methods=["POST"])
@billing_manager_required
def add_alert():
    """Tell me when this metric (or the whole amount) reaches X."""
    form = _alert_form(g.tenant)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(status=422, form=form)
    choices = {choice.value: choice.label for choice in form.metric.choices}
    metric = (form.metric.data, choices[form.metric.data]) if form.metric.data else None
    alert = alerts.add(g.tenant, current_user.id, metric, form.target.data)
    db.session.flush()
    lago_alerts.hand_to_lago(g.tenant, alert)
    db.session.commit()
    flash("Alert saved: you will hear at 50, 80 and 100 %.", "success")
    return redirect_to("usage.index")


@bp.route("/alerts/<int:alert_id>/delete", methods=["POST"])
@billing_manager_required
def delete_alert(alert_id: int):
    """Stop an alert (another tenant's is not found)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    alert = alerts.find(g.tenant, alert_id)
    if alert is None:
        abort(404)
    lago_alerts.take_back(alert)
    alerts.remove(g.tenant, alert_id)
    db.session.commit()
    flash("Alert removed.", "success")
    return redirect_to("usage.index")


@bp.route("/current")
@member_required
def current_period():
    """The usage page with this period read from Lago (briefly cached; `?fresh=1` reads
    again); htmx takes the `usage-current` part alone."""
    summary = summarize(g.tenant)
    return _page(fragments={CURRENT}, summary=summary, **_current_part(summary.zone))


@bp.route("/history")
@member_required
def past_periods():
    """The usage page with the last billed periods from Lago (htmx takes that part alone)."""
    try:
        context = {"history": history.past_usage(g.tenant)}
    except NotConnected:
        context = {"history_error": "Billing is not connected yet, so there is no history."}
    except LagoError as error:
        context = {"history_error": customer_sentence(error)}
    return _page(fragments={HISTORY}, **context)
