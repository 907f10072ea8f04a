"""Events: the record of every change, handed to the webhook dispatcher as it is created."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context

from . import ids

if TYPE_CHECKING:
    from .state import Standin

KIND = "event"
ENDPOINT_KIND = "webhook_endpoint"
TYPE_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
# The types the stand-in creates by itself (any type can be sent through the control API).
EMITTED = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "setup_intent.created",
    "setup_intent.requires_action",
    "setup_intent.succeeded",
    "setup_intent.setup_failed",
    "setup_intent.canceled",
)


def type_matches(pattern: str, event_type: str) -> bool:
    """`*`, an exact type, or a `prefix.*` wildcard."""
    if pattern in ("*", event_type):
        return True
    return pattern.endswith(".*") and event_type.startswith(pattern[:-1])


def subscribed(endpoint: dict[str, Any], event_type: str) -> bool:
    """Whether an enabled endpoint wants this event type."""
    if endpoint.get("status") != "enabled":
        return False
    return any(type_matches(p, event_type) for p in endpoint.get("enabled_events", ()))


def request_info() -> dict[str, Any]:
    """The API request behind an event; null ids for changes made elsewhere (3-D Secure)."""
    if has_request_context() and g.get("request_id"):
        return {"id": g.request_id, "idempotency_key": g.get("idempotency_key")}
    return {"id": None, "idempotency_key": None}


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`previous_attributes`: the old values of changed fields (nested hashes diffed too)."""
    previous: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            previous[key] = changes(old, new)
        else:
            previous[key] = old
    return previous


def publish(
    standin: Standin,
    event_type: str,
    obj: dict[str, Any],
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create an event about `obj` (public form) and deliver it to every subscribed endpoint."""
    endpoints = [e for e in reversed(standin.store.all(ENDPOINT_KIND)) if subscribed(e, event_type)]
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    event = {
        "id": ids.new_id(KIND),
        "object": "event",
        "api_version": standin.config.api_version,
        "created": standin.clock.now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": len(endpoints),
        "request": request_info(),
        "type": event_type,
    }
    event = standin.store.insert(KIND, event)
    standin.webhooks.deliver(event, endpoints)
    return event
