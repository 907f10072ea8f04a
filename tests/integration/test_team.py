import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Invitation, Membership, Role, User, utcnow
from tests.conftest import log_in

NEW_MEMBER = {
    "name": "Nia New",
    "password": "a decent passphrase",
    "confirm": "a decent passphrase",
    "timezone": "UTC",
}


def _invite(client, email="new@example.com", role="member"):
    response = client.submit("/team/invitations", {"email": email, "role": role})
    match = re.search(
        r'value="(http://localhost/invitations/[^"]+)"', response.get_data(as_text=True)
    )
    return response, match.group(1) if match else None


def test_owner_invites_link_is_shown_and_emailed(as_role, mailbox):
    owner, _ = as_role("owner")
    response, link = _invite(owner)
    assert response.status_code == 200
    assert link is not None
    [message] = mailbox.wait_for("new@example.com")
    assert "invited you to join" in message.get_body(("plain",)).get_content()
    assert link in message.get_body(("plain",)).get_content()
    assert link in message.get_body(("html",)).get_content()


def test_new_person_accepts_and_joins_with_the_invited_role(app, as_role, mailbox):
    owner, owner_person = as_role("owner")
    _, link = _invite(owner, role="billing_admin")
    path = link.removeprefix("http://localhost")
    guest = app.test_client()
    assert b"Join Acme Inc." in guest.get(path).data
    response = guest.submit(path, NEW_MEMBER)
    assert response.status_code == 303
    with app.app_context():
        user = User.by_email("new@example.com")
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))
        assert membership.tenant_id == owner_person.tenant_id
        assert membership.role is Role.billing_admin
    assert guest.get(path).status_code == 410  # used up
    assert b"new@example.com" in owner.get("/team/").data


def test_existing_account_joins_after_logging_in(app, as_role, make_person, mailbox):
    owner, owner_person = as_role("owner")
    elsewhere = make_person("owner", tenant_name="Elsewhere", email="known@example.com")
    _, link = _invite(owner, email="known@example.com")
    path = link.removeprefix("http://localhost")
    anonymous = app.test_client()
    assert anonymous.get(path).headers["Location"].startswith("/login?next=")
    invitee = log_in(app.test_client(), elsewhere)
    assert invitee.submit(path).status_code == 303
    with app.app_context():
        tenants = {
            m.tenant_id
            for m in db.session.scalars(
                sa.select(Membership).where(Membership.user_id == elsewhere.id)
            )
        }
    assert tenants == {elsewhere.tenant_id, owner_person.tenant_id}


def test_signed_in_as_someone_else_cannot_take_the_invitation(app, as_role, make_person, mailbox):
    owner, _ = as_role("owner")
    _, link = _invite(owner)
    intruder = log_in(app.test_client(), make_person("member", tenant_name="Other"))
    path = link.removeprefix("http://localhost")
    assert intruder.get(path).status_code == 403
    assert intruder.submit(path, NEW_MEMBER).status_code == 403


def test_expired_revoked_and_bogus_links(app, as_role, mailbox):
    owner, _ = as_role("owner")
    _, link = _invite(owner)
    path = link.removeprefix("http://localhost")
    guest = app.test_client()
    with app.app_context():
        invitation = db.session.scalar(sa.select(Invitation))
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        invitation_id = invitation.id
    assert b"It has expired." in guest.get(path).data
    assert guest.get("/invitations/not-a-real-token").status_code == 404
    with app.app_context():
        db.session.get(Invitation, invitation_id).expires_at = utcnow() + timedelta(days=1)
        db.session.commit()
    assert owner.submit(f"/team/invitations/{invitation_id}/revoke").status_code == 303
    assert b"It was withdrawn." in guest.get(path).data


def test_members_cannot_invite_and_billing_admins_cannot_invite_owners(app, as_role, mailbox):
    owner, owner_person = as_role("owner")
    member, _ = as_role("member", tenant_id=owner_person.tenant_id)
    assert (
        member.submit("/team/invitations", {"email": "x@example.com", "role": "member"}).status_code
        == 403
    )
    billing, _ = as_role("billing_admin", tenant_id=owner_person.tenant_id)
    response = billing.submit("/team/invitations", {"email": "x@example.com", "role": "owner"})
    assert b"Only an owner can invite another owner." in response.data
    assert mailbox.to("x@example.com") == []


def test_invite_form_errors(as_role):
    owner, _ = as_role("owner")
    response = owner.submit(
        "/team/invitations",
        {"email": "not an email", "role": "emperor"},
        htmx=True,
        headers={"HX-Target": "invite-panel"},
    )
    assert response.status_code == 422
    assert b"Not a valid choice" in response.data
    assert b"invite-panel" in response.data


def test_other_tenants_cannot_revoke_or_remove(app, as_role, mailbox):
    owner, owner_person = as_role("owner")
    _invite(owner)
    with app.app_context():
        invitation_id = db.session.scalar(sa.select(Invitation.id))
    outsider, _ = as_role("other_tenant")
    assert outsider.submit(f"/team/invitations/{invitation_id}/revoke").status_code == 404
    assert outsider.submit(f"/team/members/{owner_person.membership_id}/remove").status_code == 404
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).revoked_at is None


def test_the_last_owner_cannot_be_removed(app, as_role):
    owner, owner_person = as_role("owner")
    response = owner.submit(
        f"/team/members/{owner_person.membership_id}/remove", follow_redirects=True
    )
    assert b"at least one owner" in response.data
    _, member = as_role("member", tenant_id=owner_person.tenant_id)
    assert owner.submit(f"/team/members/{member.membership_id}/remove").status_code == 303
    with app.app_context():
        assert db.session.get(Membership, member.membership_id) is None


@pytest.mark.parametrize("role", ["member", "billing_admin", "owner"])
def test_every_member_sees_the_team(as_role, role):
    client, person = as_role(role)
    page = client.get("/team/")
    assert page.status_code == 200
    assert person.email.encode() in page.data
    assert (b"Invite someone" in page.data) == (role != "member")
