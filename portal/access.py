"""Who may see what: tenant membership, billing roles and platform admins."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, session
from flask_login import current_user, login_required

from portal.models import Membership, Role

TENANT_KEY = "tenant_id"


def current_membership() -> Membership | None:
    """The signed-in user's membership in the tenant they are working in."""
    if not current_user.is_authenticated:
        return None
    memberships = list(current_user.memberships)
    if not memberships:
        return None
    wanted = session.get(TENANT_KEY)
    for membership in memberships:
        if membership.tenant_id == wanted:
            return membership
    return min(memberships, key=lambda m: m.id)


def switch_tenant(tenant_id: int) -> bool:
    """Work in another tenant the user belongs to."""
    if any(m.tenant_id == tenant_id for m in current_user.memberships):
        session[TENANT_KEY] = tenant_id
        return True
    return False


def _require(check):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            membership = current_membership()
            if not check(membership):
                abort(403)
            g.membership = membership
            g.tenant = membership.tenant if membership else None
            return view(*args, **kwargs)

        return wrapped

    return decorator


member_required = _require(lambda m: m is not None)
billing_manager_required = _require(lambda m: m is not None and m.role.can_manage_billing)
owner_required = _require(lambda m: m is not None and m.role is Role.owner)


def platform_admin_required(view):
    """Only platform admins pass."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_platform_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
