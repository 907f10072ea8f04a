"""Lago's `alert.triggered`: a customer's usage alert that Lago evaluates reached a level."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from portal.billing.connection import NotConnected
from portal.extensions import db
from portal.lago import LagoError, TriggeredAlert
from portal.models import EventSource, SubscriptionMirror, Tenant, WebhookEvent, utcnow
from portal.notify.after_commit import queue_email
from portal.usage import alerts, current, lago_alerts
from portal.wallet import low_credits
from portal.webhooks.handlers import tenants
from portal.webhooks.handlers.refetch import note
from portal.webhooks.registry import handles


def _period(
    tenant: Tenant, external_id: str, event: WebhookEvent
) -> tuple[datetime | None, str | None]:
    """Where the subscription's current charges period starts and its currency: from Lago's
    current usage (as Pier's job keys it), else the mirrored subscription."""
    try:
        usage = current.current_usage(tenant, fresh=True)
    except (LagoError, NotConnected) as error:
        note(event, f"Used the mirrored billing period ({error})")
    else:
        for sub in usage.subscriptions:
            if sub.external_id == external_id and sub.from_datetime is not None:
                return sub.from_datetime, sub.currency
    return _mirrored_start(tenant, external_id), None


def _mirrored_start(tenant: Tenant, external_id: str) -> datetime | None:
    mirrored = db.session.scalar(
        sa.select(SubscriptionMirror).where(
            SubscriptionMirror.tenant_id == tenant.id,
            SubscriptionMirror.external_id == external_id,
            SubscriptionMirror.status == "active",
        )
    )
    if mirrored is None or mirrored.current_period_started_at is None:
        return None
    starts = [d for d in (mirrored.current_period_started_at, mirrored.started_at) if d]
    return max(starts)


@handles(EventSource.lago, "alert.triggered")
def alert_triggered(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Open the notice of each level crossed (once per alert, level and period) and queue its
    email, which goes out once the notice is committed. A wallet alert is the tenant's
    low-credits warning."""
    sent = TriggeredAlert.from_api(payload["triggered_alert"])
    tenant = tenants.by_external_id(event, sent.external_customer_id)
    if tenant is None:
        return
    if sent.alert_type in low_credits.WALLET_TYPES:
        if not low_credits.on_triggered(tenant, sent):
            note(event, f"Lago's wallet alert {sent.alert_code!r}: nothing new to announce")
        return
    alert = lago_alerts.by_code(tenant, sent.alert_code)
    if alert is None:
        note(event, f"No usage alert of this tenant is Lago's {sent.alert_code!r}; removed?")
        return
    levels = sorted(
        {int(t.code) for t in sent.crossed_thresholds if t.code and t.code.isdigit()}
        & set(alerts.LEVELS)
    )
    external_id = sent.external_subscription_id or ""
    start, currency = _period(tenant, external_id, event)
    period = alerts.period_key(external_id, start or sent.triggered_at or utcnow())
    words = alerts.describe(alert, currency or tenant.currency or "USD")
    for level in levels:
        alerts.announce(tenant, alert, level, period, words)
        queue_email(alerts.KIND, alert.id, period, level)
