"""The stand-in's configuration and the object holding all of its state."""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context, request

from ..common.settings import apply_runtime
from . import signing
from .clock import Clock, iso
from .faults import FaultInjector
from .knobs import PaymentKnobs
from .pdfs import PdfFiles
from .spec import SpecGuard, load_spec
from .store import Store, new_id
from .webhooks import WebhookDispatcher

DEFAULT_API_KEY = "lago-sandbox-api-key"
LAGO_VERSION = "v1.51.0"
EXTENSION = "lago_standin"


@dataclass
class StandinConfig:
    """Settings of one stand-in; most can be changed at runtime through the control API."""

    db_path: str = ":memory:"
    api_key: str = DEFAULT_API_KEY
    org_name: str = "Pier Sandbox"
    default_currency: str = "USD"
    timezone: str = "UTC"
    strict: bool = False
    validate_requests: bool = True
    validate_responses: bool = False
    seed: bool = False
    premium: bool = False
    # Organization#premium_integrations (each also needs `premium`); `preview` previews invoices
    # of stored subscriptions.
    premium_integrations: list[str] = field(default_factory=lambda: ["preview"])
    # False: an older Lago without the subscription alerts API (its routes answer 404).
    alerts_api: bool = True
    public_url: str | None = None
    jwt_issuer: str | None = None
    webhook_timeout: float = 30.0
    webhook_attempts: int = 3
    webhook_retry_scale: float = 1.0
    generate_pdfs: bool = True
    # Generated PDFs: their size (padded; 0 = a minimal one-page file), how long generating one
    # takes after a download asks for it, and where the files live (None: a temporary folder).
    pdf_bytes: int = 0
    pdf_delay_seconds: float = 0.0
    files_path: str | None = None
    payment_providers: list[dict[str, str]] = field(
        default_factory=lambda: [{"type": "stripe", "code": "stripe"}]
    )
    # Lago's Stripe integration: where Stripe is, its secret key and Lago's webhook secret there.
    stripe_api_url: str | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    rsa_private_key_pem: str | None = None
    spec_path: str | None = None
    clock_start: datetime | None = None  # a fixed instant the clock starts (and resets) at

    RUNTIME = (
        "strict",
        "validate_requests",
        "validate_responses",
        "premium",
        "premium_integrations",
        "alerts_api",
        "public_url",
        "jwt_issuer",
        "webhook_timeout",
        "webhook_attempts",
        "webhook_retry_scale",
        "generate_pdfs",
        "stripe_api_url",
        "stripe_secret_key",
        "stripe_webhook_secret",
        "pdf_bytes",
        "pdf_delay_seconds",
    )

    def public(self) -> dict[str, Any]:
        """The settings without secrets."""
        data = asdict(self)
        data.pop("rsa_private_key_pem")
        data["clock_start"] = iso(self.clock_start)
        data.pop("stripe_secret_key")
        data.pop("stripe_webhook_secret")
        return data


class Standin:
    """Everything one stand-in instance knows: config, store, spec guard, faults, webhooks."""

    def __init__(self, config: StandinConfig) -> None:
        self.config = config
        self.clock = Clock(config.clock_start)
        self.store = Store(config.db_path, self.clock)
        self.spec_guard = SpecGuard(load_spec(config.spec_path) if config.spec_path else None)
        self.faults = FaultInjector()
        self.payment_knobs = PaymentKnobs()
        self.webhooks = WebhookDispatcher(self)
        self.write_lock = threading.RLock()
        self._ensure_org()
        self.files = PdfFiles(config.files_path, self.org()["hmac_key"].encode())
        if config.seed:
            self.seed()

    def configure(self, **changes: Any) -> StandinConfig:
        """Change runtime settings (see StandinConfig.RUNTIME)."""
        return apply_runtime(self.config, changes)

    def org(self) -> dict[str, Any]:
        """The organization document (includes its secrets)."""
        return self.store.setting("organization")

    def save_org(self, org: dict[str, Any]) -> None:
        """Store the organization document."""
        self.store.put_setting("organization", org)

    def issuer(self) -> str:
        """The JWT `iss` claim: configured issuer, else this stand-in's own base URL."""
        if self.config.jwt_issuer:
            return self.config.jwt_issuer
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        if has_request_context():
            return request.host_url.rstrip("/")
        return "http://localhost:3000"

    def reset(self, *, seed: bool = False) -> None:
        """Forget data, deliveries, faults, payment knobs and violations; the organization and
        its keys stay."""
        self.webhooks.clear()
        self.store.reset()
        self.files.clear()
        self.faults.clear()
        self.payment_knobs.clear()
        self.spec_guard.pop_violations()
        self.clock.reset()
        if seed:
            self.seed()

    def seed(self) -> dict[str, list[str]]:
        """Add the demo billable metrics and plans (existing codes are left alone)."""
        from .seed import seed_demo_data

        return seed_demo_data(self)

    def close(self) -> None:
        """Stop background work and close the database."""
        self.webhooks.close()
        self.faults.clear()
        self.store.close()
        self.files.close()

    def _ensure_org(self) -> None:
        config = self.config
        org = self.org()
        if org is None:
            org_id = new_id()
            org = {
                "id": org_id,
                "name": config.org_name,
                "created_at": self.clock.now_iso(),
                "hmac_key": str(uuid.uuid4()),
                "rsa_private_key": config.rsa_private_key_pem or signing.generate_private_key_pem(),
                "default_currency": config.default_currency,
                "timezone": config.timezone,
                "document_number_prefix": f"{config.org_name[:3].upper()}-{org_id[-4:].upper()}",
                "billing_entity_code": _code_from(config.org_name),
            }
        org["api_key"] = config.api_key
        org["payment_providers"] = config.payment_providers
        if config.rsa_private_key_pem:
            org["rsa_private_key"] = config.rsa_private_key_pem
        self.save_org(org)


def _code_from(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "default"


def current() -> Standin:
    """The Standin of the Flask app handling the current request."""
    return current_app.extensions[EXTENSION]
