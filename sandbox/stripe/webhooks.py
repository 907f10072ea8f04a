"""Webhook delivery: one record per event and endpoint, signed, sent, retried in the background."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from ..common.delivery import DeliveryLoop
from . import ids, signing
from .objects import public

if TYPE_CHECKING:
    from .state import Standin

KIND = "delivery"
EVENT_KIND = "event"
ENDPOINT_KIND = "webhook_endpoint"
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def retry_delay(failures: int) -> float:
    """Seconds to wait after failure number `failures`: 5 min, 20 min, 80 min, ..."""
    return 300.0 * 4 ** (failures - 1)


def render_payload(event: dict[str, Any], endpoint: dict[str, Any]) -> str:
    """The body Stripe posts: the event in the endpoint's API version, pretty-printed."""
    body = public(event)
    body["api_version"] = endpoint.get("api_version") or event["api_version"]
    return json.dumps(body, indent=2, ensure_ascii=False)


def new_endpoint(
    standin: Standin,
    *,
    url: str,
    enabled_events: list[str],
    secrets: list[str] | None = None,
    api_version: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    endpoint_id: str | None = None,
) -> dict[str, Any]:
    """An endpoint document (not stored); its signing secrets live in `_secrets`."""
    return {
        "id": endpoint_id or ids.new_id(KIND),
        "object": KIND,
        "api_version": api_version,
        "application": None,
        "created": standin.clock.now(),
        "description": description,
        "enabled_events": enabled_events,
        "livemode": False,
        "metadata": metadata or {},
        "status": "enabled",
        "url": url,
        "_secrets": secrets or [standin.config.webhook_secret or ids.webhook_secret()],
    }


def delivery_headers(payload: str, secrets: list[str], timestamp: int) -> dict[str, str]:
    """The headers a delivery attempt is sent with."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Accept": "*/*; q=0.5, application/xml",
        "Cache-Control": "no-cache",
        "Stripe-Signature": signing.signature_header(payload, secrets, timestamp),
    }


class WebhookDispatcher(DeliveryLoop):
    """Creates delivery records, sends them from daemon threads and retries failures."""

    thread_name = "stripe-standin-webhooks"
    logger = logging.getLogger(__name__)

    def __init__(self, standin: Standin) -> None:
        super().__init__()
        self.standin = standin

    def worker_name(self, record_id: str) -> str:
        """The name of the thread attempting one record."""
        return f"stripe-standin-{record_id[-8:]}"

    def deliver(
        self, event: dict[str, Any], endpoints: list[dict[str, Any]], *, resend: bool = False
    ) -> list[dict]:
        """Create and schedule one delivery per endpoint (resends leave `pending_webhooks` be)."""
        records = []
        for endpoint in endpoints:
            record = self.standin.store.insert(
                KIND,
                {
                    "id": ids.new_id(KIND),
                    "object": "sandbox.webhook_delivery",
                    "created": self.standin.clock.now(),
                    "event": event["id"],
                    "type": event["type"],
                    "webhook_endpoint": endpoint["id"],
                    "url": endpoint["url"],
                    "status": "pending",
                    "payload": render_payload(event, endpoint),
                    "attempts": [],
                    "_counted": resend,
                },
            )
            records.append(record)
            self._schedule(record["id"], 0.0)
        return records

    def retry(self, record_id: str) -> dict | None:
        """Send an existing delivery again now (its retry budget starts over)."""
        store = self.standin.store
        with store.transaction():
            record = store.get(record_id, KIND)
            if record is None:
                return None
            record["status"] = "retrying"
            record["_budget_from"] = len(record["attempts"])
            store.save(record)
        self._schedule(record_id, 0.0)
        return record

    def _attempt(self, record_id: str, generation: int, retry: bool = True) -> None:
        store = self.standin.store
        record = store.get(record_id, KIND)
        if record is None:
            return
        endpoint = store.get(record["webhook_endpoint"], ENDPOINT_KIND)
        timestamp = self.standin.clock.now()
        attempt: dict[str, Any] = {
            "number": len(record["attempts"]) + 1,
            "at": timestamp,
            "http_status": None,
            "response_body": None,
            "error": None,
            "duration_ms": 0.0,
            "retry_in_s": None,
            "headers": None,
        }
        if endpoint is None:
            attempt["error"] = "the webhook endpoint was deleted"
        else:
            self._send(record, endpoint, timestamp, attempt)
        if self.stale(generation):
            return
        self._record(record_id, attempt)

    def _send(self, record: dict, endpoint: dict, timestamp: int, attempt: dict[str, Any]) -> None:
        headers = delivery_headers(record["payload"], endpoint["_secrets"], timestamp)
        attempt["headers"] = headers
        timeout = self.standin.config.webhook_timeout
        attempt.update(self.post(record["url"], record["payload"], headers, timeout))

    def _record(self, record_id: str, attempt: dict[str, Any]) -> None:
        store = self.standin.store
        config = self.standin.config
        with store.transaction():
            record = store.get(record_id, KIND)
            if record is None:
                return
            status = attempt["http_status"]
            failures = len(record["attempts"]) + 1 - record.get("_budget_from", 0)
            if status is not None and 200 <= status < 300:
                record["status"] = "succeeded"
                if not record.get("_counted"):
                    record["_counted"] = True
                    self._mark_delivered(record["event"])
            elif failures >= config.webhook_attempts:
                record["status"] = "failed"
            else:
                record["status"] = "retrying"
                attempt["retry_in_s"] = retry_delay(failures) * config.webhook_retry_scale
            record["attempts"].append(attempt)
            store.save(record)
        if attempt["retry_in_s"] is not None:
            self._schedule(record_id, attempt["retry_in_s"])

    def _mark_delivered(self, event_id: str) -> None:
        event = self.standin.store.get(event_id, EVENT_KIND)
        if event is not None and event["pending_webhooks"] > 0:
            event["pending_webhooks"] -= 1
            self.standin.store.save(event)


def public_delivery(record: dict[str, Any]) -> dict[str, Any]:
    """A delivery record as the control API shows it."""
    return public(record)
