"""The object holding everything one stand-in knows: settings, store, clock, faults, webhooks."""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app, has_request_context, request

from ..common.settings import apply_runtime
from .clock import Clock
from .config import StandinConfig
from .faults import FaultInjector
from .idempotency import IdempotencyKeys
from .store import Store
from .webhooks import WebhookDispatcher, new_endpoint

EXTENSION = "stripe_standin"
ENDPOINT_KIND = "webhook_endpoint"
CONFIGURED_ENDPOINT = "we_sandbox_configured"


class Standin:
    """State and machinery of one stand-in instance."""

    def __init__(self, config: StandinConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.store = Store(config.db_path)
        self.faults = FaultInjector()
        self.idempotency = IdempotencyKeys(self.store, self.clock)
        self.webhooks = WebhookDispatcher(self)
        self.write_lock = threading.RLock()
        self.ensure_configured_endpoint()

    def configure(self, **changes: Any) -> StandinConfig:
        """Change runtime settings (see StandinConfig.RUNTIME)."""
        apply_runtime(self.config, changes)
        if {"webhook_url", "webhook_secret"} & set(changes):
            self.ensure_configured_endpoint()
        return self.config

    def base_url(self) -> str:
        """The URL browsers reach the stand-in at (for 3-D Secure pages)."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        if has_request_context():
            return request.host_url.rstrip("/")
        return "http://127.0.0.1:12111"

    def ensure_configured_endpoint(self) -> None:
        """Keep the endpoint from `webhook_url` (all events, configured secret) registered."""
        with self.write_lock:
            existing = self.store.get(CONFIGURED_ENDPOINT, ENDPOINT_KIND)
            if existing is not None:
                self.store.delete(CONFIGURED_ENDPOINT)
            if not self.config.webhook_url:
                return
            endpoint = new_endpoint(
                self,
                url=self.config.webhook_url,
                enabled_events=["*"],
                endpoint_id=CONFIGURED_ENDPOINT,
                description="From the stand-in's webhook_url setting",
            )
            self.store.insert(ENDPOINT_KIND, endpoint)

    def reset(self) -> None:
        """Forget all objects, events, deliveries and faults; keys and settings stay."""
        with self.write_lock:
            self.webhooks.clear()
            self.store.reset()
            self.idempotency.clear()
            self.faults.clear()
            self.clock.reset()
            self.ensure_configured_endpoint()

    def close(self) -> None:
        """Stop background work and close the database."""
        self.webhooks.close()
        self.faults.clear()
        self.store.close()


def current() -> Standin:
    """The Standin of the Flask app handling the current request."""
    return current_app.extensions[EXTENSION]
