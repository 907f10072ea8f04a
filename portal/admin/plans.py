"""The plan catalogue: Lago's plans next to Pier's, import, sync, edit, create."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision
from flask import abort, flash, request

from portal.access import platform_admin_required
from portal.admin import bp
from portal.admin.forms import NewPlanForm, PlanForm
from portal.auth.forms import ConfirmForm
from portal.billing import catalogue, outage, plan_features
from portal.billing.connection import NotConnected, get_connection, lago_client
from portal.extensions import db
from portal.htmx import is_htmx, redirect_to, render_page
from portal.lago import LagoError
from portal.models import Plan


def _lago_rows():
    """The diff against Lago, or the sentence saying why Lago could not be read."""
    try:
        return catalogue.diff_catalogue(lago_client().list_plans()), None
    except NotConnected as exc:
        return None, exc.message
    except LagoError as exc:
        return None, outage.sentence(exc)


@bp.route("/plans")
@platform_admin_required
def plans():
    """Pier's catalogue at once; the comparison with Lago loads lazily (`plans_lago`)."""
    connection = get_connection()
    return render_page(
        "admin/plans.html",
        plans=catalogue.pier_plans(),
        connection=connection,
        confirm=ConfirmForm(),
        new_plan=NewPlanForm(
            formdata=None, currency=connection.default_currency if connection else "USD"
        ),
    )


@bp.route("/plans/lago")
@platform_admin_required
def plans_lago():
    """The comparison with Lago's plans, or why Lago could not be read."""
    rows, lago_error = _lago_rows()
    return render_page(
        "admin/plans.html",
        block="lago_plans",
        rows=rows,
        lago_error=lago_error,
        connection=get_connection(),
        confirm=ConfirmForm(),
    )


@bp.route("/plans/sync", methods=["POST"])
@platform_admin_required
def plans_sync():
    """Import one plan, all new plans, or refresh the imported ones ("sync now")."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    code = request.form.get("code") or None
    import_new = request.form.get("import") in ("one", "all")
    try:
        result = catalogue.sync_catalogue(
            lago_client(), import_new=import_new, codes={code} if code else None
        )
    except NotConnected as exc:
        flash(exc.message, "error")
        return redirect_to("admin.plans")
    except LagoError as exc:
        db.session.rollback()
        flash(f"Plans were not synced: {outage.sentence(exc)}", "error")
        return redirect_to("admin.plans")
    db.session.commit()
    flash(f"Plans synced: {result.summary()}.", "success")
    return redirect_to("admin.plans")


@bp.route("/plans/new", methods=["POST"])
@platform_admin_required
def plans_create():
    """Create a plan in Lago (when plan sync is on) and add it to the catalogue."""
    connection = get_connection()
    form = NewPlanForm()
    if connection is None or not connection.sync_plans_to_lago:
        flash(
            "Turn on “Plans created in Pier are created in Lago” first, or create it in Lago.",
            "error",
        )
        return redirect_to("admin.plans")
    if form.validate_on_submit():
        currency = form.currency.data
        amount_cents = int(Decimal(form.amount.data).scaleb(get_currency_precision(currency)))
        try:
            plan = catalogue.create_plan_in_lago(
                lago_client(),
                code=form.code.data,
                name=form.name.data,
                interval=form.interval.data,
                amount_cents=amount_cents,
                currency=currency,
                trial_days=form.trial_days.data or 0,
                description=form.description.data,
            )
        except LagoError as exc:
            db.session.rollback()
            form.code.errors.append(outage.sentence(exc))
        else:
            db.session.commit()
            flash(f"Plan {plan.title} created in Lago and added to the catalogue.", "success")
            return redirect_to("admin.plans")
    return render_page(
        "admin/plans.html",
        status=422 if is_htmx() else 200,
        plans=catalogue.pier_plans(),
        connection=connection,
        confirm=ConfirmForm(),
        new_plan=form,
    )


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@platform_admin_required
def plan_edit(plan_id: int):
    """Edit what Pier keeps about a plan: wording, order, visibility, allowed switches."""
    plan = db.session.get(Plan, plan_id) or abort(404)
    form = PlanForm(obj=plan)
    others = [p for p in catalogue.pier_plans() if p.id != plan.id]
    form.switch_targets.choices = [(p.id, p.title) for p in others]
    if not form.is_submitted():
        form.features.data = "\n".join(plan.features or [])
        form.switch_targets.data = [p.id for p in plan.switch_targets]
    if form.validate_on_submit():
        catalogue.update_plan_details(
            plan,
            display_name=(form.display_name.data or "").strip() or None,
            description=(form.description.data or "").strip() or None,
            features=[
                line.strip() for line in (form.features.data or "").splitlines() if line.strip()
            ],
            position=form.position.data or 0,
            visible=form.visible.data,
            highlighted=form.highlighted.data,
            switch_targets=[p for p in others if p.id in set(form.switch_targets.data or [])],
        )
        db.session.commit()
        flash(f"{plan.title} saved.", "success")
        return redirect_to("admin.plans")
    status = 422 if form.is_submitted() and is_htmx() else 200
    return render_page(
        "admin/plan_edit.html",
        plan=plan,
        form=form,
        status=status,
        granted=plan_features.granted(plan),
    )
