"""Changes a person makes to their own account."""

from __future__ import annotations

from portal import audit
from portal.auth.services import EmailTaken
from portal.auth.session import current_session, end_sessions, open_sessions
from portal.models import User, UserSession, utcnow


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
    """Set a new password if the current one is right and end the other sessions (the caller
    commits)."""
    if not user.check_password(current):
        return False
    user.set_password(new)
    ended = end_sessions(user, keep=current_session())
    audit.record("user.password_changed", target=user, after={"sessions_ended": ended})
    return True


def end_session(user: User, session_id: int) -> UserSession | None:
    """End one of the user's own open sessions; None when there is no such one (the caller
    commits)."""
    signed_in = next((s for s in open_sessions(user) if s.id == session_id), None)
    if signed_in is not None:
        signed_in.revoked_at = utcnow()
        audit.record("user.session_ended", target=signed_in, after={"device": signed_in.device})
    return signed_in


def sign_out_everywhere(user: User) -> int:
    """End every open session of the user, this one included (the caller commits)."""
    ended = end_sessions(user)
    audit.record("user.signed_out_everywhere", target=user, after={"sessions_ended": ended})
    return ended
