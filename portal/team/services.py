"""Invite, revoke and remove members of a tenant."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

from portal import audit
from portal.auth.services import hash_token
from portal.extensions import db
from portal.models import Invitation, Membership, Role, Tenant, User, utcnow

INVITATION_LIFETIME = timedelta(days=7)


class NotAllowed(ValueError):
    """The action breaks a team rule; the message says which."""


def list_members(tenant: Tenant) -> list[Membership]:
    """The tenant's members, owners first."""
    order = sa.case({Role.owner: 0, Role.billing_admin: 1}, value=Membership.role, else_=2)
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(User)
            .where(Membership.tenant_id == tenant.id)
            .order_by(order, sa.func.lower(User.email))
        )
    )


def open_invitations(tenant: Tenant) -> list[Invitation]:
    """Invitations not yet accepted, revoked or expired."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.tenant_id == tenant.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


def invite_member(
    tenant: Tenant, inviter: Membership | None, email: str, role: Role
) -> tuple[Invitation, str]:
    """Create an invitation and return it with its one-time token (the caller commits).

    Without an inviter the platform invites (the first owner of a tenant made through the API).
    """
    if role is Role.owner and inviter is not None and inviter.role is not Role.owner:
        raise NotAllowed("Only an owner can invite another owner.")
    already = db.session.scalar(
        sa.select(Membership)
        .join(User)
        .where(Membership.tenant_id == tenant.id, sa.func.lower(User.email) == email.lower())
    )
    if already is not None:
        raise NotAllowed(f"{email} is already a member of {tenant.name}.")
    for previous in open_invitations(tenant):
        if previous.email.lower() == email.lower():
            previous.revoked_at = utcnow()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant_id=tenant.id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by_id=inviter.user_id if inviter else None,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "member.invited",
        target=invitation,
        tenant_id=tenant.id,
        after={"email": email, "role": role.value},
    )
    return invitation, token


def revoke_invitation(tenant: Tenant, invitation_id: int) -> Invitation | None:
    """Revoke an open invitation of this tenant; None when there is no such invitation."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(
            Invitation.id == invitation_id, Invitation.tenant_id == tenant.id
        )
    )
    if invitation is None:
        return None
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = utcnow()
        audit.record(
            "member.invitation_revoked",
            target=invitation,
            tenant_id=tenant.id,
            before={"email": invitation.email},
        )
    return invitation


def remove_member(tenant: Tenant, membership_id: int) -> Membership | None:
    """Remove a member of this tenant, keeping at least one owner."""
    membership = db.session.scalar(
        sa.select(Membership).where(
            Membership.id == membership_id, Membership.tenant_id == tenant.id
        )
    )
    if membership is None:
        return None
    if membership.role is Role.owner:
        owners = db.session.scalar(
            sa.select(sa.func.count()).where(
                Membership.tenant_id == tenant.id, Membership.role == Role.owner
            )
        )
        if owners <= 1:
            raise NotAllowed("A tenant needs at least one owner; make someone else an owner first.")
    audit.record(
        "member.removed",
        target=membership,
        tenant_id=tenant.id,
        before={"email": membership.user.email, "role": membership.role.value},
    )
    db.session.delete(membership)
    return membership
