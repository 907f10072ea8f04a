"""Lago's `events.errors`: usage events it could not use, told to the platform admins."""

from __future__ import annotations

from typing import Any

from portal.models import EventSource, WebhookEvent, utcnow
from portal.notify import notices
from portal.notify.formatting import moment
from portal.webhooks.registry import handles

KEY = "lago_events_errors"
PROBLEMS = {
    "invalid_code": "with a metric code Lago does not know",
    "missing_aggregation_property": "without the property their metric adds up",
    "missing_group_key": "without a group key their charge needs",
    "invalid_filter_values": "with filter values the metric does not allow",
}
EXAMPLES = 3


@handles(EventSource.lago, "events.errors")
def usage_events_rejected(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Keep one admin notice with the latest rejected events (Lago sends transaction ids)."""
    errors = payload["events_errors"]
    parts = []
    total = 0
    for name, words in PROBLEMS.items():
        ids = [str(i) for i in errors.get(name) or []]
        if not ids:
            continue
        total += len(ids)
        shown = ", ".join(ids[:EXAMPLES]) + (", …" if len(ids) > EXAMPLES else "")
        parts.append(f"{len(ids)} {words} ({shown})")
    if not parts:
        return
    notices.raise_notice(
        KEY,
        tenant_id=None,
        kind="events_errors",
        level="warning",
        title=f"Lago could not bill {total} usage event{'s' if total != 1 else ''}",
        body=(
            f"Reported {moment(utcnow(), 'UTC')}: " + "; ".join(parts) + ". Those events are "
            "not counted on any invoice. Check the codes and properties the application sends "
            "and the plan's billable metrics in Lago, then send the events again."
        ),
    )
