"""API tokens: create (the secret is shown once), list with last use, revoke."""

from __future__ import annotations

from flask import abort, flash
from flask_login import current_user

from portal.access import platform_admin_required
from portal.admin import bp
from portal.admin.forms import ApiTokenForm
from portal.api import tokens
from portal.auth.forms import ConfirmForm
from portal.extensions import db
from portal.htmx import redirect_to, render_page


def _page(form: ApiTokenForm | None = None, secret: str | None = None, status: int = 200):
    return render_page(
        "admin/api_tokens.html",
        status=status,
        tokens=tokens.list_tokens(),
        form=form or ApiTokenForm(formdata=None),
        confirm=ConfirmForm(),
        secret=secret,
    )


@bp.route("/api-tokens")
@platform_admin_required
def api_tokens():
    """Every API token with its scopes and last use."""
    return _page()


@bp.route("/api-tokens", methods=["POST"])
@platform_admin_required
def api_token_create():
    """Create a token; its secret is on this answer only."""
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        _, secret = tokens.create_token(form.name.data, form.scopes.data, current_user)
    except tokens.TokenProblem as exc:
        form.name.errors.append(str(exc))
        return _page(form, status=422)
    db.session.commit()
    return _page(secret=secret)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@platform_admin_required
def api_token_revoke(token_id: int):
    """Revoke a token for good."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = tokens.revoke_token(token_id)
    if token is None:
        abort(404)
    db.session.commit()
    flash(f"API token “{token.name}” revoked; calls with it now get 401.", "info")
    return redirect_to("admin.api_tokens")
