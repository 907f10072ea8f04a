"""Team page: members, invitations, invite form."""

from __future__ import annotations

from flask import abort, current_app, flash, g, url_for

from portal.access import billing_manager_required, member_required, owner_required
from portal.auth.forms import ConfirmForm
from portal.extensions import db
from portal.htmx import is_htmx, redirect_to, render_page
from portal.mail import send_mail
from portal.models import Role
from portal.team import bp
from portal.team.forms import InviteForm
from portal.team.services import (
    NotAllowed,
    invite_member,
    list_members,
    open_invitations,
    remove_member,
    revoke_invitation,
)


def _page(form=None, status=200, invite_link=None, emailed=None):
    can_invite = g.membership.role.can_manage_billing
    return render_page(
        "team/index.html",
        status=status,
        fragments={"invite-panel"},
        members=list_members(g.tenant),
        invitations=open_invitations(g.tenant) if can_invite else [],
        form=form or InviteForm(formdata=None),
        confirm=ConfirmForm(),
        invite_link=invite_link,
        emailed=emailed,
        can_invite=can_invite,
        is_owner=g.membership.role is Role.owner,
    )


@bp.route("/")
@member_required
def index():
    """Members and open invitations of the current tenant."""
    return _page()


@bp.route("/invitations", methods=["POST"])
@billing_manager_required
def invite():
    """Invite someone by email; the link is shown and emailed."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation, token = invite_member(
                g.tenant, g.membership, form.email.data, Role(form.role.data)
            )
        except NotAllowed as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            link = current_app.config["PIER_BASE_URL"] + url_for("auth.invitation", token=token)
            emailed = send_mail(
                invitation.email,
                f"You are invited to {g.tenant.name} on Pier",
                "invitation",
                invitation=invitation,
                link=link,
            )
            return _page(invite_link=link, emailed=emailed)
    return _page(form, status=422 if is_htmx() else 200)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@billing_manager_required
def revoke(invitation_id: int):
    """Revoke an open invitation."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if revoke_invitation(g.tenant, invitation_id) is None:
        abort(404)
    db.session.commit()
    flash("Invitation revoked.", "info")
    return redirect_to("team.index")


@bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@owner_required
def remove(membership_id: int):
    """Remove a member (owners only)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        removed = remove_member(g.tenant, membership_id)
    except NotAllowed as exc:
        flash(str(exc), "error")
        return redirect_to("team.index")
    if removed is None:
        abort(404)
    db.session.commit()
    flash("Member removed.", "info")
    return redirect_to("team.index")
