"""Settings › Billing: connect Lago, test it, save it, register the webhook."""

from __future__ import annotations

from flask import abort, flash

from portal.access import platform_admin_required
from portal.admin import bp
from portal.admin.forms import BehaviourForm, ConnectionForm
from portal.auth.forms import ConfirmForm
from portal.billing import catalogue, customers
from portal.billing.connection import (
    ConnectionInput,
    get_connection,
    register_webhook_endpoint,
    reveal_api_key,
    save_behaviour,
    save_connection,
    test_connection,
    webhook_url,
)
from portal.crypto import decrypt, mask
from portal.extensions import db
from portal.htmx import is_htmx, redirect_to, render_page
from portal.lago import LagoError
from portal.models import Provider, WebhookAlgorithm
from portal.payments import settings as stripe_settings

BEHAVIOUR_FIELDS = (
    "default_currency",
    "default_trial_days",
    "auto_create_customers",
    "default_plan_code",
    "sync_plans_to_lago",
    "lago_sends_invoice_emails",
    "overage_enabled",
    "trial_reminder_days",
    "suspension_grace_days",
    "termination_credit_note",
    "termination_invoice",
)


def _connection_form(connection, formdata=True):
    kwargs = {
        "has_saved_key": connection is not None,
        "has_saved_hmac": bool(connection and connection.hmac_key_encrypted),
    }
    if formdata is None:
        kwargs["formdata"] = None
    form = ConnectionForm(**kwargs)
    if connection is not None and not form.is_submitted():
        form.provider.data = connection.provider.value
        form.api_url.data = connection.api_url
        form.webhook_algorithm.data = connection.webhook_algorithm.value
        form.public_key.data = connection.webhook_public_key or ""
        form.issuer.data = connection.webhook_issuer or ""
    return form


def _behaviour_form(connection, formdata=True):
    form = (
        BehaviourForm(obj=connection) if formdata else BehaviourForm(obj=connection, formdata=None)
    )
    form.default_plan_code.choices = [("", "No plan")] + [
        (p.code, p.title) for p in catalogue.pier_plans()
    ]
    return form


def _page(form=None, report=None, behaviour=None, status=200, revealed=None, block=None):
    connection = get_connection()
    return render_page(
        "admin/billing.html",
        status=status,
        block=block,
        connection=connection,
        form=form or _connection_form(connection),
        behaviour=behaviour or (_behaviour_form(connection, formdata=None) if connection else None),
        report=report,
        masked_key=mask(decrypt(connection.api_key_encrypted)) if connection else "",
        revealed=revealed,
        webhook_url=webhook_url(),
        confirm=ConfirmForm(),
        stripe=stripe_settings.effective(),
        stripe_row=stripe_settings.saved(),
    )


def _input(form, connection) -> ConnectionInput:
    """The form's values, falling back to the saved secrets when their fields are left blank."""
    api_key = form.api_key.data or (decrypt(connection.api_key_encrypted) if connection else "")
    hmac_key = form.hmac_key.data or (
        decrypt(connection.hmac_key_encrypted)
        if connection and connection.hmac_key_encrypted
        else None
    )
    return ConnectionInput(
        provider=Provider(form.provider.data),
        api_url=form.api_url.data,
        api_key=api_key.strip(),
        webhook_algorithm=WebhookAlgorithm(form.webhook_algorithm.data),
        hmac_key=hmac_key.strip() if hmac_key else None,
        # Validation turned a pasted key into its PEM; a blank field stays blank.
        public_key=form.public_key.data if (form.public_key.data or "").strip() else None,
        issuer=(form.issuer.data or "").strip() or None,
    )


@bp.route("/settings/billing")
@platform_admin_required
def billing_settings():
    """The connection form, its status and the behaviour settings."""
    return _page()


@bp.route("/settings/billing/test", methods=["POST"])
@platform_admin_required
def billing_test():
    """Test the connection in the form without saving it."""
    connection = get_connection()
    form = _connection_form(connection)
    if not form.validate_on_submit():
        if not is_htmx():
            return _page(form)
        # The button targets #test-result; the field errors belong in the form.
        response = _page(form, status=422, block="connection_form")
        response.headers["HX-Retarget"] = "#connection-form"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    report = test_connection(_input(form, connection))
    db.session.rollback()
    return _page(form, report=report, block="test_result" if is_htmx() else None)


@bp.route("/settings/billing", methods=["POST"])
@platform_admin_required
def billing_save():
    """Test, then save the connection with its secrets encrypted."""
    connection = get_connection()
    form = _connection_form(connection)
    if not form.validate_on_submit():
        return _page(form, status=422 if is_htmx() else 200)
    data = _input(form, connection)
    report = test_connection(data)
    if not report.ok:
        return _page(form, report=report, status=422 if is_htmx() else 200)
    save_connection(data, report)
    db.session.commit()
    for tenant_id in customers.unsynced_tenant_ids():
        customers.sync_after_commit(tenant_id)
    flash(
        f"Connected to {report.organization.name}. Next: register the webhook and import plans.",
        "success",
    )
    return redirect_to("admin.billing_settings")


@bp.route("/settings/billing/behaviour", methods=["POST"])
@platform_admin_required
def billing_behaviour():
    """Save how Pier uses Lago."""
    connection = get_connection()
    if connection is None:
        abort(404)
    form = _behaviour_form(connection)
    if not form.validate_on_submit():
        return _page(behaviour=form, status=422 if is_htmx() else 200)
    values = {name: getattr(form, name).data for name in BEHAVIOUR_FIELDS}
    values["default_plan_code"] = values["default_plan_code"] or None
    save_behaviour(connection, values)
    db.session.commit()
    flash("Billing settings saved.", "success")
    return redirect_to("admin.billing_settings")


@bp.route("/settings/billing/reveal", methods=["POST"])
@platform_admin_required
def billing_reveal():
    """Show the API key once, on an explicit click; audited."""
    connection = get_connection()
    if connection is None or not ConfirmForm().validate_on_submit():
        abort(404)
    key = reveal_api_key(connection)
    db.session.commit()
    return _page(revealed=key, block="api_key_status" if is_htmx() else None)


@bp.route("/settings/billing/webhook", methods=["POST"])
@platform_admin_required
def billing_register_webhook():
    """Create (or reuse) Pier's webhook endpoint in Lago."""
    connection = get_connection()
    if connection is None or not ConfirmForm().validate_on_submit():
        abort(404)
    try:
        _, created = register_webhook_endpoint(connection)
    except LagoError as exc:
        db.session.rollback()
        flash(f"Lago did not register the webhook: {exc.message} {exc.hint}", "error")
    else:
        db.session.commit()
        flash(
            "Webhook registered in Lago."
            if created
            else "Lago already had Pier's webhook; it is kept.",
            "success",
        )
    return redirect_to("admin.billing_settings")
