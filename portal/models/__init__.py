"""The database models."""

from portal.models.api import ApiToken, OutboxState, Scope, UsageEvent, UsageSnapshot
from portal.models.audit import AuditEntry
from portal.models.base import UTCDateTime, utcnow
from portal.models.billing import BillingConnection, Plan, Provider, WebhookAlgorithm
from portal.models.inbox import EventSource, EventStatus, SignatureFailure, WebhookEvent
from portal.models.mirror import (
    AppliedCouponMirror,
    BillingAccount,
    CreditNoteMirror,
    DunningState,
    EmailLog,
    InvoiceMirror,
    Notice,
    PaymentIssue,
    SubscriptionMirror,
)
from portal.models.operation import Operation, OperationState
from portal.models.payments import Card, CardSetup, StripeSettings
from portal.models.tenant import Invitation, Membership, Role, SyncState, Tenant
from portal.models.usage import UsageAlert, UsageDay
from portal.models.user import User, UserSession

__all__ = [
    "ApiToken",
    "AppliedCouponMirror",
    "OutboxState",
    "Scope",
    "UsageEvent",
    "UsageSnapshot",
    "UsageAlert",
    "UsageDay",
    "BillingAccount",
    "Card",
    "CardSetup",
    "StripeSettings",
    "CreditNoteMirror",
    "DunningState",
    "EmailLog",
    "EventSource",
    "EventStatus",
    "InvoiceMirror",
    "Notice",
    "Operation",
    "OperationState",
    "PaymentIssue",
    "SignatureFailure",
    "SubscriptionMirror",
    "WebhookEvent",
    "AuditEntry",
    "BillingConnection",
    "Plan",
    "Provider",
    "WebhookAlgorithm",
    "Invitation",
    "Membership",
    "Role",
    "SyncState",
    "Tenant",
    "UTCDateTime",
    "User",
    "UserSession",
    "utcnow",
]
