"""Profile, password and session views."""

from __future__ import annotations

from flask import abort, flash
from flask_login import current_user, login_required

from portal.account import bp
from portal.account.forms import PasswordForm, ProfileForm
from portal.account.services import (
    change_password,
    end_session,
    sign_out_everywhere,
    update_profile,
)
from portal.auth.forms import ConfirmForm
from portal.auth.services import EmailTaken
from portal.auth.session import current_session, open_sessions, sign_out
from portal.extensions import db
from portal.htmx import is_htmx, redirect_to, render_page


def _page(profile_form=None, password_form=None, status=200, saved=None):
    return render_page(
        "account/profile.html",
        status=status,
        fragments={"profile-form", "password-form"},
        profile_form=profile_form or ProfileForm(obj=current_user, formdata=None),
        password_form=password_form or PasswordForm(formdata=None),
        saved=saved,
        sessions=open_sessions(current_user),
        this_session=current_session(),
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    """See and edit name, email and time zone."""
    form = ProfileForm(obj=current_user)
    if not form.is_submitted():
        return _page(form)
    if form.validate_on_submit():
        try:
            changed = update_profile(
                current_user,
                name=form.name.data,
                email=form.email.data,
                timezone=form.timezone.data,
            )
        except EmailTaken:
            form.email.errors.append("Another account already uses this email.")
        else:
            db.session.commit()
            if not is_htmx():
                flash("Your profile is saved." if changed else "Nothing to change.", "success")
                return redirect_to("account.profile")
            return _page(form, saved="profile")
    return _page(form, status=422 if is_htmx() else 200)


@bp.route("/password", methods=["POST"])
@login_required
def password():
    """Change the password; other sessions are signed out."""
    form = PasswordForm()
    if form.validate_on_submit():
        if change_password(current_user, current=form.current.data, new=form.password.data):
            db.session.commit()
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect_to("account.profile")
        form.current.errors.append("That is not your current password.")
    return _page(password_form=form, status=422 if is_htmx() else 200)


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end(session_id: int):
    """Sign one of your sessions out (this one included)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ended = end_session(current_user, session_id)
    if ended is None:
        abort(404)
    if ended is current_session():
        sign_out()
        db.session.commit()
        flash("You have been logged out.", "info")
        return redirect_to("auth.login")
    db.session.commit()
    flash(f"{ended.device} is signed out.", "info")
    return redirect_to("account.profile")


@bp.route("/sessions/end", methods=["POST"])
@login_required
def end_all():
    """Sign out everywhere, this browser included."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sign_out_everywhere(current_user)
    sign_out()
    db.session.commit()
    flash("You have been signed out everywhere.", "info")
    return redirect_to("auth.login")
