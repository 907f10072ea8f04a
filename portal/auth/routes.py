"""Sign-up, log-in, log-out and invitation views."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from redis.exceptions import RedisError

from portal import audit
from portal.access import switch_tenant
from portal.auth import bp
from portal.auth.forms import AcceptInviteForm, ConfirmForm, LoginForm, SignupForm
from portal.auth.services import (
    EmailTaken,
    accept_invitation,
    authenticate,
    find_invitation,
    register_organisation,
)
from portal.auth.session import sign_in, sign_out
from portal.billing.customers import sync_after_commit
from portal.errors import render_error
from portal.extensions import db, limiter, redis_key
from portal.htmx import is_htmx, redirect_to, render_page
from portal.models import User, utcnow

log = logging.getLogger(__name__)
LOGIN_FAILED = "That email and password do not match an account."
LOGIN_PAUSED = (
    "Logging in is paused: Pier cannot count login attempts right now (its Redis is not "
    "answering). Try again in a minute."
)
# The forms htmx posts and swaps in place, by page.
FORM_FRAGMENTS = {"auth/signup.html": {"signup-form"}, "auth/invitation.html": {"invitation-form"}}


def _invalid(template: str, **context):
    """Re-render a form with its errors: 422 for htmx, the page again otherwise."""
    return render_page(
        template,
        status=422 if is_htmx() else 200,
        fragments=FORM_FRAGMENTS.get(template, ()),
        **context,
    )


def _safe_next(default: str) -> str:
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def _login_key() -> str:
    return redis_key("login-email", (request.form.get("email") or "").strip().lower()[:254])


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an organisation and its owner."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignupForm()
    if not form.validate_on_submit():
        return (
            _invalid("auth/signup.html", form=form)
            if form.is_submitted()
            else render_page("auth/signup.html", form=form)
        )
    try:
        tenant, user = register_organisation(
            organisation=form.organisation.data,
            name=form.name.data,
            email=form.email.data,
            password=form.password.data,
            timezone=form.timezone.data,
        )
    except EmailTaken:
        form.email.errors.append("An account already uses this email. Log in instead.")
        return _invalid("auth/signup.html", form=form)
    sign_in(user)
    db.session.commit()
    sync_after_commit(tenant.id)
    flash("Welcome to Pier. Your organisation is ready.", "success")
    return redirect_to("home.index")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_key)
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("home.index")))
    form = LoginForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            return _invalid("auth/login.html", form=form)
        return render_page("auth/login.html", form=form)
    user = authenticate(form.email.data, form.password.data)
    if user is None:
        form.form_errors.append(LOGIN_FAILED)
        return _invalid("auth/login.html", form=form)
    sign_in(user, remember=form.remember.data)
    audit.record("user.logged_in", target=user, actor=user)
    db.session.commit()
    destination = (
        url_for("admin.index")
        if user.is_platform_admin and not user.memberships
        else url_for("home.index")
    )
    return redirect(_safe_next(destination), 303)


@bp.errorhandler(RedisError)
def login_paused(exc: RedisError):
    """Without Redis the login rate limit cannot hold across workers: refuse rather than guess."""
    log.warning("login refused: the rate limit storage is unavailable (%s)", exc)
    return render_error(503, LOGIN_PAUSED)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session."""
    form = ConfirmForm()
    if form.validate_on_submit():
        sign_out()
        db.session.commit()
        flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Accept an invitation: sign up, or join with the account already signed in."""
    invite = find_invitation(token)
    if invite is None or not invite.is_open(utcnow()):
        return render_page(
            "auth/invitation_closed.html", invite=invite, status=410 if invite else 404
        )
    existing = User.by_email(invite.email)
    signed_in_as_invitee = (
        current_user.is_authenticated and current_user.email.lower() == invite.email.lower()
    )
    if current_user.is_authenticated and not signed_in_as_invitee:
        return render_page("auth/invitation_wrong_account.html", invite=invite, status=403)
    if signed_in_as_invitee or existing is not None:
        return _join_existing(invite, existing or current_user, signed_in_as_invitee, token)
    form = AcceptInviteForm()
    if not form.validate_on_submit():
        template_args = {"form": form, "invite": invite, "token": token}
        if form.is_submitted():
            return _invalid("auth/invitation.html", **template_args)
        return render_page("auth/invitation.html", **template_args)
    user = User(email=invite.email, name=form.name.data.strip(), timezone=form.timezone.data)
    user.set_password(form.password.data)
    db.session.add(user)
    db.session.flush()
    accept_invitation(invite, user)
    sign_in(user)
    db.session.commit()
    flash(f"Welcome to {invite.tenant.name}.", "success")
    return redirect_to("home.index")


def _join_existing(invite, user, signed_in: bool, token: str):
    """An invitee who already has an account joins after logging in."""
    if not signed_in:
        flash("You already have an account: log in to accept the invitation.", "info")
        return redirect(url_for("auth.login", next=url_for("auth.invitation", token=token)))
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        accept_invitation(invite, user)
        db.session.commit()
        switch_tenant(invite.tenant_id)
        flash(f"You joined {invite.tenant.name}.", "success")
        return redirect_to("home.index")
    return render_page("auth/invitation_join.html", invite=invite, form=form, token=token)
