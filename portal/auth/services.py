"""Sign-up, authentication and invitation acceptance."""

from __future__ import annotations

import hashlib
from functools import cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from portal import audit
from portal.billing.customers import mark_for_sync, plan_for_new_tenant
from portal.extensions import db
from portal.models import Invitation, Membership, Role, Tenant, User, utcnow
from portal.models.user import password_hash_method


@cache
def _dummy_hash(method: str) -> str:
    """A hash to check against when the email is unknown, so both paths take as long."""
    return generate_password_hash("not-a-real-password", method=method)


class EmailTaken(ValueError):
    """Another account already uses this email."""


def register_organisation(
    *, organisation: str, name: str, email: str, password: str, timezone: str
):
    """Create a tenant and its owner (the caller commits)."""
    if User.by_email(email) is not None:
        raise EmailTaken(email)
    tenant = Tenant(
        name=organisation.strip(),
        billing_email=email,
        timezone=timezone,
        plan_to_assign=plan_for_new_tenant(),
    )
    user = User(email=email, name=name.strip(), timezone=timezone)
    user.set_password(password)
    db.session.add_all([tenant, user])
    db.session.add(Membership(user=user, tenant=tenant, role=Role.owner))
    db.session.flush()
    tenant.created_by_id = user.id
    mark_for_sync(tenant)
    audit.record(
        "tenant.created",
        target=tenant,
        tenant_id=tenant.id,
        actor=user,
        after={"name": tenant.name},
    )
    return tenant, user


def authenticate(email: str, password: str) -> User | None:
    """The user these credentials belong to, or None; takes the same time either way."""
    user = User.by_email((email or "").strip())
    if user is None:
        check_password_hash(_dummy_hash(password_hash_method()), password or "")
        return None
    return user if user.check_password(password or "") else None


def hash_token(token: str) -> str:
    """What is stored for an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_invitation(token: str) -> Invitation | None:
    """The invitation behind a token, whatever its state."""
    return db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == hash_token(token))
    )


def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """Make the user a member of the invitation's tenant (the caller commits)."""
    existing = db.session.scalar(
        sa.select(Membership).where(
            Membership.user_id == user.id, Membership.tenant_id == invitation.tenant_id
        )
    )
    invitation.accepted_at = utcnow()
    if existing is not None:
        return existing
    membership = Membership(user=user, tenant_id=invitation.tenant_id, role=invitation.role)
    db.session.add(membership)
    db.session.flush()
    audit.record(
        "member.joined",
        target=membership,
        tenant_id=invitation.tenant_id,
        actor=user,
        after={"email": user.email, "role": invitation.role.value},
    )
    return membership
