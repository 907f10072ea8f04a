"""Changes a person makes to their own account."""

from __future__ import annotations

from portal import audit
from portal.auth.services import EmailTaken
from portal.models import User


def update_profile(user: User, *, name: str, email: str, timezone: str) -> dict:
    """Apply profile changes and audit them; returns what changed (the caller commits)."""
    owner = User.by_email(email)
    if owner is not None and owner.id != user.id:
        raise EmailTaken(email)
    before = {"name": user.name, "email": user.email, "timezone": user.timezone}
    user.name, user.email, user.timezone = name.strip(), email, timezone
    after = {"name": user.name, "email": user.email, "timezone": user.timezone}
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        audit.record(
            "user.profile_updated",
            target=user,
            before={k: before[k] for k in changed},
            after=changed,
        )
    return changed


def change_password(user: User, *, current: str, new: str) -> bool:
    """Set a new password if the current one is right (the caller commits)."""
    if not user.check_password(current):
        return False
    user.set_password(new)
    audit.record("user.password_changed", target=user)
    return True
