"""Fixtures for the webhook inbox: a saved Lago connection, signers, a test registry, RQ."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import types
import uuid
from dataclasses import dataclass, field

import jwt
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rq import Queue, SimpleWorker

import portal.webhooks
from portal import crypto
from portal.extensions import db
from portal.models import BillingConnection, Provider, WebhookAlgorithm
from portal.queues import queue
from portal.webhooks import inbox

ISSUER = "https://lago.example.com"
HMAC_KEY = "2f4c2a0e-5a7b-4c55-9a55-7d1f1d0f5d3e"
STRIPE_SECRET = "whsec_current_secret"
STRIPE_OLD_SECRET = "whsec_previous_secret"


@dataclass(frozen=True)
class Keys:
    private_pem: str
    public_pem: str


def _key_pair() -> Keys:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return Keys(private, public)


@pytest.fixture(scope="session")
def lago_keys() -> Keys:
    return _key_pair()


@pytest.fixture(scope="session")
def other_keys() -> Keys:
    return _key_pair()


@pytest.fixture
def webhook_app(app):
    """The app with Stripe secrets and immediate retries (no scheduler needed)."""
    app.config["STRIPE_WEBHOOK_SECRETS"] = [STRIPE_SECRET, STRIPE_OLD_SECRET]
    app.config["WEBHOOK_RETRY_INTERVALS"] = [0, 0]
    return app


@pytest.fixture
def connect_lago(webhook_app, lago_keys):
    """Save a billing connection that verifies webhooks with the given algorithm."""

    def connect(algorithm: str = "jwt", *, issuer: str = ISSUER, hmac_key: str = HMAC_KEY):
        with webhook_app.app_context():
            connection = BillingConnection(
                provider=Provider.lago_self_hosted,
                api_url=ISSUER,
                api_key_encrypted=crypto.encrypt("lago-api-key"),
                webhook_algorithm=WebhookAlgorithm(algorithm),
                webhook_public_key=lago_keys.public_pem,
                webhook_issuer=issuer,
                hmac_key_encrypted=crypto.encrypt(hmac_key),
            )
            db.session.add(connection)
            db.session.commit()

    return connect


def lago_body(webhook_type: str = "customer.updated", lago_id: str | None = None) -> bytes:
    """A compact Lago-shaped body, as lago-api serialises it."""
    payload = {
        "webhook_type": webhook_type,
        "object_type": "customer",
        "organization_id": "6c3e3a43-7e0f-4b3c-8c2b-000000000001",
        "customer": {"lago_id": lago_id or str(uuid.uuid4()), "external_id": "tenant-1"},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def jwt_headers(body: bytes, keys: Keys, *, issuer: str = ISSUER, key: str | None = None) -> dict:
    token = jwt.encode({"data": body.decode(), "iss": issuer}, keys.private_pem, algorithm="RS256")
    return {
        "Content-Type": "application/json",
        "X-Lago-Signature": token,
        "X-Lago-Signature-Algorithm": "jwt",
        "X-Lago-Unique-Key": key or str(uuid.uuid4()),
    }


def hmac_headers(body: bytes, *, secret: str = HMAC_KEY, key: str | None = None) -> dict:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Lago-Signature": base64.b64encode(digest).decode(),
        "X-Lago-Signature-Algorithm": "hmac",
        "X-Lago-Unique-Key": key or str(uuid.uuid4()),
    }


@dataclass
class FakeRegistry:
    """Stands in for portal.webhooks.registry: records dispatches, fails types on request."""

    calls: list[tuple[int, str]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    ignoring: set[str] = field(default_factory=set)

    def dispatch(self, event) -> str:
        self.calls.append((event.id, event.event_type))
        if event.event_type in self.failing:
            raise RuntimeError(f"handler for {event.event_type} failed")
        return "ignored" if event.event_type in self.ignoring else "processed"

    def handled_types(self, source) -> set[str]:
        return {"customer.updated", "customer.created"}


@pytest.fixture
def registry(monkeypatch) -> FakeRegistry:
    """A registry installed as portal.webhooks.registry for this test."""
    fake = FakeRegistry()
    module = types.ModuleType("portal.webhooks.registry")
    module.dispatch = fake.dispatch
    module.handled_types = fake.handled_types
    monkeypatch.setitem(sys.modules, "portal.webhooks.registry", module)
    monkeypatch.setattr(portal.webhooks, "registry", module, raising=False)
    return fake


@pytest.fixture
def redis_conn(webhook_app) -> redis.Redis:
    return redis.Redis.from_url(webhook_app.config["REDIS_URL"])


@pytest.fixture
def webhook_queue(webhook_app) -> Queue:
    with webhook_app.app_context():
        return queue("webhooks")


@pytest.fixture
def event_job_id(webhook_app):
    """The RQ job id that processes an inbox event, in this app's instance."""

    def job_id(event_id: int) -> str:
        with webhook_app.app_context():
            return inbox.event_job_id(event_id)

    return job_id


@pytest.fixture
def dispatch(webhook_app):
    """One dispatcher pass over every stored event waiting; returns how many were queued."""
    from jobs import dispatcher, runtime

    def run() -> int:
        runtime.use_app(webhook_app)
        return dispatcher.dispatch_all()

    yield run
    runtime.use_app(None)


@pytest.fixture
def run_worker(webhook_app, webhook_queue, redis_conn):
    """Dispatch the stored events, then run the queued webhook jobs with a real RQ SimpleWorker
    in this process until the queue is empty (what a burst worker does)."""
    from jobs import dispatcher, runtime

    def run() -> None:
        runtime.use_app(webhook_app)
        dispatcher.dispatch_all()
        SimpleWorker([webhook_queue], connection=redis_conn).work(burst=True)

    yield run
    runtime.use_app(None)


@pytest.fixture
def admin_client(webhook_app, as_role):
    client, _ = as_role("admin")
    return client


@pytest.fixture
def live_portal(webhook_app):
    """The portal served over HTTP on a loopback port, with PIER_BASE_URL pointing at it."""
    from sandbox.serving import serve_in_thread

    server = serve_in_thread(webhook_app)
    webhook_app.config["PIER_BASE_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture
def connect_standin(admin_client, lago_standin):
    """Connect the portal to the Lago stand-in and register the webhook, as an admin does."""

    def connect(algorithm: str) -> None:
        form = {
            "provider": "lago_self_hosted",
            "api_url": lago_standin.url,
            "api_key": lago_standin.api_key,
            "webhook_algorithm": algorithm,
        }
        if algorithm == "hmac":
            form["hmac_key"] = lago_standin.hmac_key
        saved = admin_client.submit("/admin/settings/billing", form)
        assert saved.status_code == 303, saved.get_data(as_text=True)
        registered = admin_client.submit("/admin/settings/billing/webhook", {})
        assert registered.status_code == 303

    return connect
