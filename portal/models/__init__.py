"""The database models."""

from portal.models.audit import AuditEntry
from portal.models.base import UTCDateTime, utcnow
from portal.models.tenant import Invitation, Membership, Role, SyncState, Tenant
from portal.models.user import User

__all__ = [
    "AuditEntry",
    "Invitation",
    "Membership",
    "Role",
    "SyncState",
    "Tenant",
    "UTCDateTime",
    "User",
    "utcnow",
]
