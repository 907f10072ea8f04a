"""Webhook delivery as lago-api does it: a record per endpoint, signed, retried in background."""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING, Any

from ..common.delivery import DeliveryLoop
from . import jsonenc, signing
from .spec import Violation
from .webhook_types import WEBHOOK_TYPES

if TYPE_CHECKING:
    from .state import Standin

SUCCESS_CODES = frozenset({200, 201, 202, 204})
KIND = "webhook"
ENDPOINT_KIND = "webhook_endpoint"


def retry_delay(failures: int, rand: float) -> float:
    """Seconds to wait after failure number `failures`: n**4 + rand*n**4*0.15 + 2."""
    return failures**4 + rand * failures**4 * 0.15 + 2


def subscribed(endpoint: dict[str, Any], webhook_type: str) -> bool:
    """Whether an endpoint wants this type (`event_types` null means everything)."""
    types = endpoint.get("event_types")
    return types is None or webhook_type in types


def encode_body(webhook_type: str, object_type: str, organization_id: str, obj: Any) -> str:
    """The exact body lago-api posts: its payload hash serialized with `to_json`."""
    payload = {
        "webhook_type": webhook_type,
        "object_type": object_type,
        "organization_id": organization_id,
        object_type: obj,
    }
    return jsonenc.dumps(payload)


class WebhookDispatcher(DeliveryLoop):
    """Creates webhook records, delivers them from daemon threads and retries failures."""

    thread_name = "lago-standin-webhooks"
    logger = logging.getLogger(__name__)

    def __init__(self, standin: Standin) -> None:
        super().__init__()
        self.standin = standin
        self._holding = False
        self._held: list[str] = []

    def worker_name(self, record_id: str) -> str:
        """The name of the thread attempting one record."""
        return f"lago-standin-webhook-{record_id[:8]}"

    def emit(
        self,
        webhook_type: str,
        obj: Any,
        *,
        object_type: str | None = None,
        deliver: bool = True,
    ) -> list[dict]:
        """Send `obj` as `webhook_type` to every subscribed endpoint; returns the new records
        (with `deliver=False` they are only recorded, for `deliver` or `keep` to send)."""
        object_type = object_type or WEBHOOK_TYPES[webhook_type]
        org = self.standin.org()
        body = encode_body(webhook_type, object_type, org["id"], obj)
        self._check_against_spec(webhook_type, body)
        store = self.standin.store
        issuer = self.standin.issuer()
        records = []
        for endpoint in store.all(ENDPOINT_KIND, newest_first=False):
            if not subscribed(endpoint, webhook_type):
                continue
            record = store.insert(
                KIND,
                {
                    "webhook_endpoint_id": endpoint["id"],
                    "endpoint_url": endpoint["webhook_url"],
                    "signature_algo": endpoint.get("signature_algo") or "jwt",
                    "webhook_type": webhook_type,
                    "object_type": object_type,
                    "payload": body,
                    "issuer": issuer,
                    "status": "pending",
                    "retries": 0,
                    "http_status": None,
                    "attempts": [],
                    "last_retried_at": None,
                },
            )
            records.append(record)
            if deliver and not self._hold_back(record["id"]):
                self._schedule(record["id"], 0.0)
        return records

    def hold(self, on: bool) -> list[str]:
        """Keep new webhooks back (True), or stop and send the held ones in order (False)."""
        with self._cond:
            self._holding = on
            released = [] if on else list(self._held)
            if not on:
                self._held.clear()
        if released:
            self.deliver(released)
        return released

    def keep(self, record_ids: list[str]) -> None:
        """Hold these (undelivered) records until `release`."""
        with self._cond:
            self._held.extend(i for i in record_ids if i not in self._held)

    def holding(self) -> bool:
        """Whether new webhooks are being kept back."""
        with self._cond:
            return self._holding

    def held(self) -> list[str]:
        """Ids of the webhooks kept back, oldest first."""
        with self._cond:
            return list(self._held)

    def release(
        self, ids: list[str] | None = None, *, order: str = "fifo", concurrent: bool = False
    ) -> list[str]:
        """Send held webhooks (all, or `ids` in that order; `order="lifo"` reverses)."""
        with self._cond:
            chosen = [i for i in (ids if ids is not None else self._held) if i in self._held]
            self._held = [i for i in self._held if i not in chosen]
        if order == "lifo":
            chosen.reverse()
        self.deliver(chosen, concurrent=concurrent)
        return chosen

    def duplicate(self, record_id: str) -> dict | None:
        """A new webhook record with the same body (a new unique key): an older snapshot sent
        again as if it were a separate webhook."""
        store = self.standin.store
        record = store.get(KIND, record_id)
        if record is None:
            return None
        copy = {
            k: record[k]
            for k in (
                "webhook_endpoint_id",
                "endpoint_url",
                "signature_algo",
                "webhook_type",
                "object_type",
                "payload",
                "issuer",
            )
        }
        copy |= {
            "status": "pending",
            "retries": 0,
            "http_status": None,
            "attempts": [],
            "last_retried_at": None,
            "copy_of": record_id,
        }
        return store.insert(KIND, copy)

    def deliver(
        self, record_ids: list[str], *, concurrent: bool = False, retry_failures: bool = True
    ) -> None:
        """Send these records now: one after the other (each attempt finished before the next
        starts), or all at once (threads released together). The same id may appear twice."""
        if not record_ids:
            return
        with self._cond:
            if self._closed:
                return
            generation = self._generation
            self._inflight += len(record_ids)
        if concurrent:
            barrier = threading.Barrier(len(record_ids))
            for index, record_id in enumerate(record_ids):
                retry = retry_failures and record_ids.index(record_id) == index
                threading.Thread(
                    target=self._attempt_then_release,
                    args=(record_id, generation, retry, barrier),
                    name=self.worker_name(record_id),
                    daemon=True,
                ).start()
            return

        def in_order() -> None:
            seen: set[str] = set()
            for record_id in record_ids:
                retry = retry_failures and record_id not in seen
                seen.add(record_id)
                self._attempt_then_release(record_id, generation, retry)

        threading.Thread(target=in_order, name="lago-standin-webhooks-ordered", daemon=True).start()

    def _hold_back(self, record_id: str) -> bool:
        with self._cond:
            if self._holding:
                self._held.append(record_id)
            return self._holding

    def retry(self, record_id: str) -> dict | None:
        """Send an existing webhook again with the same unique key (the UI's manual retry)."""
        record = self.standin.store.get(KIND, record_id)
        if record is None:
            return None
        record["status"] = "retrying"
        record = self.standin.store.save(KIND, record)
        self._schedule(record_id, 0.0)
        return record

    def headers_for(self, record: dict[str, Any]) -> dict[str, str]:
        """The headers an attempt of this record is sent with."""
        org = self.standin.org()
        return signing.signature_headers(
            body=record["payload"],
            algo=record["signature_algo"],
            unique_key=record["id"],
            private_pem=org["rsa_private_key"],
            hmac_key=org["hmac_key"],
            issuer=record["issuer"],
        )

    def clear(self) -> None:
        """Forget scheduled and held deliveries (attempts already running are not recorded)."""
        with self._cond:
            super().clear()
            self._held.clear()
            self._holding = False

    def _check_against_spec(self, webhook_type: str, body: str) -> None:
        config = self.standin.config
        if not config.validate_responses:
            return
        headers = {
            "X-Lago-Signature": "signature",
            "X-Lago-Signature-Algorithm": "jwt",
            "X-Lago-Unique-Key": "00000000-0000-4000-8000-000000000000",
        }
        problems = self.standin.spec_guard.check_webhook(webhook_type, headers, body.encode())
        if problems:
            self.standin.spec_guard.record(
                Violation("webhook", "POST", f"webhooks/{webhook_type}", problems)
            )

    def _attempt(self, record_id: str, generation: int, retry: bool = True) -> None:
        store = self.standin.store
        record = store.get(KIND, record_id)
        if record is None:
            return
        config = self.standin.config
        started_at = self.standin.clock.now_iso()
        outcome = self.post(
            record["endpoint_url"],
            record["payload"],
            self.headers_for(record),
            config.webhook_timeout,
        )
        status = outcome["http_status"]
        attempt = {
            "number": len(record["attempts"]) + 1,
            "at": started_at,
            **outcome,
            "retry_in_s": None,
        }
        if self.stale(generation):
            return
        with store.transaction():
            record = store.get(KIND, record_id)
            if record is None:
                return
            record["http_status"] = status
            if status in SUCCESS_CODES:
                record["status"] = "succeeded"
            elif not retry or record["retries"] + 1 >= config.webhook_attempts:
                record["status"] = "failed"
            else:
                record["retries"] += 1
                record["status"] = "retrying"
                record["last_retried_at"] = started_at
                delay = retry_delay(record["retries"], random.random())
                attempt["retry_in_s"] = round(delay, 3)
            record["attempts"].append(attempt)
            store.save(KIND, record)
        if attempt["retry_in_s"] is not None:
            self._schedule(record_id, attempt["retry_in_s"] * config.webhook_retry_scale)


def public_record(record: dict[str, Any], dispatcher: WebhookDispatcher) -> dict[str, Any]:
    """A webhook record as the control API shows it (with the headers it is sent with)."""
    shown = dict(record)
    shown["headers"] = dispatcher.headers_for(record)
    return shown
