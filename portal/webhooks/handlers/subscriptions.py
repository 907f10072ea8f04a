"""Lago subscription webhooks: the subscription mirror and the notices its state implies."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from portal.billing import mirror
from portal.lago import LagoClient, LagoNotFound, Subscription
from portal.models import EventSource, WebhookEvent
from portal.notify import subscription_notices
from portal.webhooks.handlers import refetch, tenants
from portal.webhooks.registry import handles

SUBSCRIPTION_TYPES = (
    "subscription.started",
    "subscription.updated",
    "subscription.terminated",
    "subscription.canceled",
    "subscription.trial_ended",
    "subscription.termination_alert",
    "subscription.usage_threshold_reached",
    "subscription.incomplete",
)
# What `GET /subscriptions/{external_id}?status=` and the list's `status[]` accept.
LISTED_STATUSES = ["active", "pending", "terminated", "canceled"]


def fetch_records(lago: LagoClient, sent: Subscription) -> list[Subscription]:
    """Every record Lago holds for the sent subscription's external id (the one sent included).

    A plan change or an undone downgrade touches several records of one external id, and Lago
    cancels a replaced pending downgrade without a webhook, so they are all read again together.
    Incomplete subscriptions cannot be listed, so one of those raises LagoNotFound.
    """
    records = [
        found
        for found in lago.list_subscriptions(
            external_customer_id=sent.external_customer_id, statuses=LISTED_STATUSES
        )
        if found.external_id == sent.external_id
    ]
    if not any(found.lago_id == sent.lago_id for found in records):
        raise LagoNotFound(
            f"Lago lists no subscription {sent.lago_id} with status {', '.join(LISTED_STATUSES)}.",
            code="subscription_not_found",
        )
    # Lago's list leaves the plan out; the webhook carries it (its trial days, for one).
    return [
        replace(found, plan=sent.plan)
        if found.plan is None and found.plan_code == sent.plan_code
        else found
        for found in records
    ]


@handles(EventSource.lago, *SUBSCRIPTION_TYPES)
def subscription_changed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Re-read the subscription's records from Lago, mirror them when newer, and update the
    notices of the one the webhook is about."""
    sent = Subscription.from_api(payload["subscription"])
    tenant = tenants.by_external_id(event, sent.external_customer_id)
    if tenant is None:
        return
    records, asked_at = refetch.from_lago(
        event, "subscription", lambda lago: fetch_records(lago, sent)
    )
    if records is not None:
        written = mirror.upsert_subscriptions(tenant, records, asked_at)
    else:
        said_at = refetch.payload_time(event, mirror.subscription_said_at(sent))
        written = mirror.upsert_subscriptions(tenant, [sent], said_at)
    result = next(w for w in written if w.row.lago_id == sent.lago_id)
    if not result.applied:
        refetch.note(event, "The mirror already held a newer copy of this subscription; kept it.")
    subscription_notices.sync(tenant, result.row)
    if event.event_type == "subscription.usage_threshold_reached":
        threshold = payload["subscription"].get("usage_threshold") or {}
        subscription_notices.threshold_reached(tenant, result.row, threshold)
