"""Write audit entries with secrets masked."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user

from portal.crypto import mask
from portal.extensions import db
from portal.models import AuditEntry

SECRET_WORDS = ("password", "secret", "api_key", "token", "hmac", "private", "key_encrypted")


def is_secret_field(name: str) -> bool:
    """True for a field whose value must never be written out in clear."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def masked(values: dict | None) -> dict | None:
    """A copy of values with every secret-looking field masked."""
    if values is None:
        return None
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = masked(value)
        elif is_secret_field(key) and value:
            out[key] = mask(str(value))
        else:
            out[key] = value
    return out


def record(action: str, *, target=None, tenant_id=None, before=None, after=None, actor=None):
    """Add an audit entry to the session (the caller commits)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    target_type = target_id = None
    if target is not None:
        target_type = getattr(target, "__tablename__", type(target).__name__)
        target_id = str(getattr(target, "id", "")) or None
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        tenant_id=tenant_id,
        target_type=target_type,
        target_id=target_id,
        before=masked(before),
        after=masked(after),
        ip=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
