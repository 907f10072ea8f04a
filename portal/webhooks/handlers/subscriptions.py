"""Lago subscription webhooks: the subscription mirror and the notices its state implies."""

from __future__ import annotations

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


def fetch_subscription(lago: LagoClient, sent: Subscription) -> Subscription:
    """The same subscription record (by lago_id) as Lago holds it now.

    The external id names the current record; a terminated or replaced one is found in the
    customer's list. Incomplete subscriptions cannot be asked for, so they raise LagoNotFound.
    """
    if sent.status in ("active", "pending"):
        try:
            found = lago.get_subscription(sent.external_id, status=sent.status)
        except LagoNotFound:
            found = None
        if found is not None and found.lago_id == sent.lago_id:
            return found
    for found in lago.list_subscriptions(
        external_customer_id=sent.external_customer_id, statuses=LISTED_STATUSES
    ):
        if found.lago_id == sent.lago_id:
            return found
    raise LagoNotFound(
        f"Lago lists no subscription {sent.lago_id} with status {', '.join(LISTED_STATUSES)}.",
        code="subscription_not_found",
    )


@handles(EventSource.lago, *SUBSCRIPTION_TYPES)
def subscription_changed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Re-read the subscription from Lago, mirror it when newer, and update its notices."""
    sent = Subscription.from_api(payload["subscription"])
    tenant = tenants.by_external_id(event, sent.external_customer_id)
    if tenant is None:
        return
    fresh, asked_at = refetch.from_lago(
        event, "subscription", lambda lago: fetch_subscription(lago, sent)
    )
    if fresh is not None:
        result = mirror.upsert_subscription(tenant, fresh, asked_at)
    else:
        said_at = refetch.payload_time(event, mirror.subscription_said_at(sent))
        result = mirror.upsert_subscription(tenant, sent, said_at)
    if not result.applied:
        refetch.note(event, "The mirror already held a newer copy of this subscription; kept it.")
    subscription_notices.sync(tenant, result.row)
    if event.event_type == "subscription.usage_threshold_reached":
        threshold = payload["subscription"].get("usage_threshold") or {}
        subscription_notices.threshold_reached(tenant, result.row, threshold)
