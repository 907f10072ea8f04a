"""The connection to Lago: read it, test it step by step, save it with secrets encrypted."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from portal import audit, crypto
from portal.billing.outage import lago_breaker
from portal.extensions import db
from portal.lago import (
    LagoClient,
    LagoError,
    LagoNotFound,
    LagoNotLagoAPI,
    Organization,
    Plan,
    WebhookEndpoint,
    normalize_api_url,
)
from portal.lago.client import segment
from portal.lago.webhook_key import read_public_key
from portal.models import BillingConnection, Provider, WebhookAlgorithm, utcnow


class NotConnected(RuntimeError):
    """Billing is not connected yet."""

    message = "Billing is not connected yet. A platform admin connects Lago in Settings › Billing."


@dataclass(frozen=True)
class ConnectionInput:
    """What an admin gives to connect Lago."""

    provider: Provider
    api_url: str
    api_key: str
    webhook_algorithm: WebhookAlgorithm = WebhookAlgorithm.jwt
    hmac_key: str | None = None
    public_key: str | None = None  # as Lago serves it or as pasted; saved as its PEM
    issuer: str | None = None


@dataclass
class Step:
    """One step of the connection test."""

    name: str
    label: str
    ok: bool | None = None
    detail: str = ""
    hint: str = ""
    elapsed_ms: float = 0.0


STEPS = (
    ("reach", "Reach the server"),
    ("key", "Check the API key"),
    ("organization", "Read the organisation"),
    ("plans", "Count the plans"),
)


@dataclass
class TestReport:
    """The outcome of a connection test."""

    steps: list[Step] = field(default_factory=lambda: [Step(n, label) for n, label in STEPS])
    organization: Organization | None = None
    plans: list[Plan] = field(default_factory=list)
    lago_version: str | None = None
    public_key: str | None = None
    error: LagoError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.ok is False), None)


def get_connection() -> BillingConnection | None:
    """The saved connection, if any."""
    return db.session.scalar(sa.select(BillingConnection).order_by(BillingConnection.id).limit(1))


def build_client(api_url: str, api_key: str, **overrides) -> LagoClient:
    """A client with the app's timeouts."""
    config = current_app.config
    options = {
        "connect_timeout": config.get("LAGO_CONNECT_TIMEOUT", 3.0),
        "read_timeout": config.get("LAGO_READ_TIMEOUT", 10.0),
        "max_retries": config.get("LAGO_MAX_RETRIES", 3),
    }
    options.update(overrides)
    return LagoClient(api_url, api_key, **options)


def lago_client() -> LagoClient:
    """The app's pooled client for the saved connection; rebuilt when the connection changes."""
    connection = get_connection()
    if connection is None:
        raise NotConnected(NotConnected.message)
    api_key = crypto.decrypt(connection.api_key_encrypted)
    fingerprint = hashlib.sha256(f"{connection.api_url}\0{api_key}".encode()).hexdigest()
    cached = current_app.extensions.get("pier_lago")
    if cached is None or cached[0] != fingerprint:
        if cached is not None:
            cached[1].close()
        breaker = lago_breaker(connection.api_url)
        cached = (fingerprint, build_client(connection.api_url, api_key, breaker=breaker))
        current_app.extensions["pier_lago"] = cached
    return cached[1]


def _run(step: Step, action: Callable[[], object]):
    started = time.perf_counter()
    try:
        return action()
    finally:
        step.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)


def test_connection(data: ConnectionInput) -> TestReport:
    """Reach the server, check the key, read the organisation, count the plans.

    Stops at the first failing step, which carries the sentence and the hint.
    """
    report = TestReport()
    reach, key, organization, plans = report.steps
    try:
        client = build_client(data.api_url, data.api_key, max_retries=0)
    except LagoError as exc:
        return _fail(report, reach, exc)
    with client:
        try:
            health = _run(reach, client.health)
        except LagoError as exc:
            return _fail(report, reach, exc)
        report.lago_version = health.version
        reach.ok, reach.detail = (
            True,
            f"Lago {health.version}" if health.version else "Lago answered",
        )
        try:
            report.organization = _run(key, client.get_organization)
        except LagoError as exc:
            return _fail(report, key, exc)
        key.ok, key.detail = True, "Accepted"
        organization.ok, organization.elapsed_ms = True, key.elapsed_ms
        organization.detail = report.organization.name
        try:
            report.plans = _run(plans, client.list_plans)
        except LagoError as exc:
            return _fail(report, plans, exc)
        plans.ok, plans.detail = True, f"{len(report.plans)} plan(s)"
        if data.webhook_algorithm is WebhookAlgorithm.jwt and not data.public_key:
            try:
                report.public_key = client.get_webhook_public_key()
            except LagoError as exc:
                plans.detail += f"; the webhook public key could not be read ({exc.message})"
    return report


def _fail(report: TestReport, step: Step, error: LagoError) -> TestReport:
    if isinstance(error, LagoNotFound):
        # Every Lago serves the routes the test reads: a 404 comes from another application.
        error = LagoNotLagoAPI(
            "The Lago URL answers, but not with the Lago API: it does not know Lago's routes.",
            status=error.status,
            code=error.code,
        )
    step.ok, step.detail, step.hint = False, error.message, error.hint
    report.error = error
    return report


def save_connection(data: ConnectionInput, report: TestReport) -> BillingConnection:
    """Store a tested connection, secrets encrypted, and audit it (the caller commits)."""
    connection = get_connection()
    before = _audit_view(connection) if connection else None
    if connection is None:
        connection = BillingConnection()
        db.session.add(connection)
    connection.provider = data.provider
    connection.api_url = normalize_api_url(data.api_url)
    connection.api_key_encrypted = crypto.encrypt(data.api_key)
    connection.webhook_algorithm = data.webhook_algorithm
    connection.hmac_key_encrypted = crypto.encrypt(data.hmac_key) if data.hmac_key else None
    # Saved as its canonical PEM whatever shape it was given in (UnreadableKey otherwise).
    pasted = read_public_key(data.public_key) if data.public_key else None
    connection.webhook_public_key = pasted or report.public_key or connection.webhook_public_key
    connection.webhook_issuer = data.issuer or connection.api_url
    organization = report.organization
    if organization is not None:
        connection.organization_id = organization.lago_id
        connection.organization_name = organization.name
        connection.organization_currency = organization.default_currency
        connection.organization_timezone = organization.timezone
        if not connection.default_currency and organization.default_currency:
            connection.default_currency = organization.default_currency
    if connection.lago_version != report.lago_version:
        connection.lago_alerts = None  # another Lago (or version): ask about alerts again
    connection.lago_version = report.lago_version
    now = utcnow()
    connection.last_tested_at = now
    connection.connected_at = connection.connected_at or now
    db.session.flush()
    audit.record(
        "billing.connection_saved", target=connection, before=before, after=_audit_view(connection)
    )
    current_app.extensions.pop("pier_lago", None)
    return connection


def _audit_view(connection: BillingConnection) -> dict:
    return {
        "provider": connection.provider.value if connection.provider else None,
        "api_url": connection.api_url,
        "api_key": crypto.decrypt(connection.api_key_encrypted)
        if connection.api_key_encrypted
        else None,
        "webhook_algorithm": connection.webhook_algorithm.value
        if connection.webhook_algorithm
        else None,
        "hmac_key": "set" if connection.hmac_key_encrypted else None,
        "webhook_issuer": connection.webhook_issuer,
    }


WEBHOOK_PATH = "/webhooks/lago"


def webhook_url() -> str:
    """The address Lago posts webhooks to."""
    return current_app.config["PIER_BASE_URL"] + WEBHOOK_PATH


def register_webhook_endpoint(connection: BillingConnection) -> tuple[str, bool]:
    """Create Pier's webhook endpoint in Lago, or reuse the one already there (the caller commits).

    Returns (endpoint id, created).
    """
    client = lago_client()
    url = webhook_url()
    algorithm = connection.webhook_algorithm.value
    existing = next((e for e in client.list_webhook_endpoints() if e.webhook_url == url), None)
    changes = {}
    if existing is not None:
        endpoint, created = existing, False
        if existing.signature_algo != algorithm:
            # Lago would keep signing the old way and Pier would reject every webhook.
            body = client.request(
                "PUT",
                f"/webhook_endpoints/{segment(existing.lago_id)}",
                body={"webhook_endpoint": {"webhook_url": url, "signature_algo": algorithm}},
            )
            endpoint = WebhookEndpoint.from_api(body["webhook_endpoint"])
            changes = {"signature_algo_before": existing.signature_algo}
    else:
        endpoint = client.create_webhook_endpoint(url, algorithm)
        created = True
    connection.webhook_endpoint_id = endpoint.lago_id
    after = {"webhook_url": url, "endpoint": endpoint.lago_id, "created": created}
    after.update(signature_algo=endpoint.signature_algo, **changes)
    audit.record("billing.webhook_registered", target=connection, after=after)
    return endpoint.lago_id, created


def reveal_api_key(connection: BillingConnection) -> str:
    """The API key in clear, for an explicit reveal; audited (the caller commits)."""
    audit.record("billing.api_key_revealed", target=connection)
    return crypto.decrypt(connection.api_key_encrypted)


def save_behaviour(connection: BillingConnection, values: dict) -> None:
    """Apply behaviour settings and audit the change (the caller commits)."""
    before = {key: getattr(connection, key) for key in values}
    for key, value in values.items():
        setattr(connection, key, value)
    changed = {k: v for k, v in values.items() if before[k] != v}
    if changed:
        audit.record(
            "billing.settings_saved",
            target=connection,
            before={k: before[k] for k in changed},
            after=changed,
        )
