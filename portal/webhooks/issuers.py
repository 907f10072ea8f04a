"""Lago's JWT issuer: which one its webhooks carry when Pier refuses them for it, and trusting it.

Lago signs with its own `LAGO_API_URL`, which is often not the address Pier calls (an internal
host name against a public one). A refusal records the issuer only when the token's signature
verified with the saved public key, so only an issuer vouched for by that key is ever offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal import audit
from portal.extensions import db
from portal.models import (
    BillingConnection,
    EventSource,
    SignatureFailure,
    WebhookAlgorithm,
    WebhookEvent,
    utcnow,
)
from portal.webhooks import inbox

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class IssuerMismatch:
    """Deliveries signed with the saved key but refused for the issuer they carry."""

    issuer: str
    expected: str | None
    refused: int
    last_refused_at: datetime


def _offered(connection: BillingConnection) -> list:
    """Refusals whose issuer may be offered: recorded since the key was saved, in the window."""
    since = utcnow() - WINDOW
    if connection.last_tested_at and connection.last_tested_at > since:
        since = connection.last_tested_at
    failures = SignatureFailure
    conditions = [
        failures.source == EventSource.lago,
        failures.issuer.is_not(None),
        failures.received_at > since,
    ]
    if connection.webhook_issuer:
        conditions.append(failures.issuer != connection.webhook_issuer)
    return conditions


def issuer_mismatch(connection: BillingConnection | None) -> IssuerMismatch | None:
    """The issuer of the latest delivery refused only for it, unless one was accepted since."""
    if connection is None or connection.webhook_algorithm is not WebhookAlgorithm.jwt:
        return None
    conditions = _offered(connection)
    latest = db.session.execute(
        sa.select(SignatureFailure.issuer, SignatureFailure.received_at)
        .where(*conditions)
        .order_by(SignatureFailure.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    issuer, refused_at = latest
    accepted_at = db.session.scalar(
        sa.select(sa.func.max(WebhookEvent.received_at)).where(
            WebhookEvent.source == EventSource.lago
        )
    )
    if accepted_at is not None and accepted_at >= refused_at:
        return None
    refused = db.session.scalar(
        sa.select(sa.func.count()).where(*conditions, SignatureFailure.issuer == issuer)
    )
    return IssuerMismatch(issuer, connection.webhook_issuer, refused or 0, refused_at)


def trust_issuer(connection: BillingConnection, issuer: str) -> bool:
    """Save `issuer` as the one Lago's webhooks must carry, if a refusal offers it; audited.

    False when no recent refusal signed with the saved key carries this issuer (the caller
    commits).
    """
    conditions = _offered(connection)
    offered = db.session.scalar(
        sa.select(sa.func.count()).where(*conditions, SignatureFailure.issuer == issuer)
    )
    if not offered or connection.webhook_algorithm is not WebhookAlgorithm.jwt:
        return False
    before = connection.webhook_issuer
    connection.webhook_issuer = issuer
    audit.record(
        "billing.webhook_issuer_trusted",
        target=connection,
        before={"webhook_issuer": before},
        after={"webhook_issuer": issuer, "refused_deliveries": offered},
    )
    inbox.forget_lago_keys()
    return True
