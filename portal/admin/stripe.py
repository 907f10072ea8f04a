"""Settings › Stripe: the keys Pier saves cards with (encrypted, masked) and a connection test."""

from __future__ import annotations

from flask import flash

from portal.access import platform_admin_required
from portal.admin import bp
from portal.admin.forms import StripeSettingsForm
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.payments import PaymentError, settings


def _page(form: StripeSettingsForm | None = None, *, status: int = 200, account=None):
    row = settings.saved()
    if form is None:
        form = StripeSettingsForm(
            formdata=None,
            publishable_key=row.publishable_key if row else None,
            provider_code=row.payment_provider_code if row else "stripe",
            api_base=row.api_base if row else None,
            js_url=row.js_url if row else None,
        )
    return render_page(
        "admin/stripe.html",
        status=status,
        form=form,
        row=row,
        masked_secret=settings.masked_secret(row),
        masked_hooks=settings.masked_webhook_secrets(row),
        effective=settings.effective(),
        account=account,
    )


@bp.route("/settings/stripe")
@platform_admin_required
def stripe_settings():
    """The saved keys, masked, and where each setting in force comes from."""
    return _page()


@bp.route("/settings/stripe", methods=["POST"])
@platform_admin_required
def stripe_save():
    """Test the key (the account is read), then save everything; secrets encrypted."""
    form = StripeSettingsForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    given = settings.SettingsInput(
        secret_key=form.secret_key.data or "",
        publishable_key=form.publishable_key.data or "",
        webhook_secrets=form.webhook_secrets.data or "",
        provider_code=form.provider_code.data or "stripe",
        api_base=form.api_base.data or "",
        js_url=form.js_url.data or "",
    )
    try:
        _, account = settings.save(given)
    except PaymentError as error:
        db.session.rollback()
        form.secret_key.errors = [*form.secret_key.errors, error.detail or error.sentence]
        return _page(form, status=422)
    db.session.commit()
    flash(f"Stripe is connected: account {account.name or account.id}.", "ok")
    return redirect_to("admin.stripe_settings")
