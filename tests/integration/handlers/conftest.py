"""Fixtures for the webhook handler tests: the Acme tenant and Pier connected to the stand-in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal import crypto
from portal.extensions import db
from portal.models import BillingConnection, Membership, Provider, Role, Tenant, User
from tests.conftest import PASSWORD
from tests.integration.handlers.support import EXTERNAL_ID, LagoOutbox, lago_call

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pier talks to the stand-in on 127.0.0.1 directly, whatever the machine's proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def job_runtime(app):
    """Jobs run against the test's app; forget it afterwards."""
    from jobs import runtime

    runtime.use_app(app)
    yield runtime
    runtime._app = None


@dataclass(frozen=True)
class Acme:
    """The tenant every payload file is about, and who gets its billing emails."""

    id: int
    external_id: str
    billing_email: str
    owner: str
    billing_admin: str
    member: str
    owner_id: int

    @property
    def billing_recipients(self) -> list[str]:
        return [self.billing_email, self.owner, self.billing_admin]


@pytest.fixture
def acme(app) -> Acme:
    """Acme Inc. (Lago customer `pier_acme`, Europe/Lisbon, EUR) with an owner, a billing
    admin and a member."""
    with app.app_context():
        tenant = Tenant(
            name="Acme Inc.",
            external_id=EXTERNAL_ID,
            billing_email="accounts@acme.test",
            timezone="Europe/Lisbon",
            currency="EUR",
        )
        people = {}
        for role in (Role.owner, Role.billing_admin, Role.member):
            user = User(email=f"{role.value.replace('_', '-')}@acme.test", name=role.label)
            user.set_password(PASSWORD)
            db.session.add(Membership(user=user, tenant=tenant, role=role))
            people[role] = user
        db.session.add(tenant)
        db.session.commit()
        return Acme(
            id=tenant.id,
            external_id=tenant.external_id,
            billing_email=tenant.billing_email,
            owner=people[Role.owner].email,
            billing_admin=people[Role.billing_admin].email,
            member=people[Role.member].email,
            owner_id=people[Role.owner].id,
        )


def connect_to(app, lago_standin, **settings) -> None:
    """Save Pier's connection to the live Lago stand-in (no client retries, so faults answer
    at once)."""
    app.config["LAGO_MAX_RETRIES"] = 0
    with app.app_context():
        db.session.add(
            BillingConnection(
                provider=Provider.lago_self_hosted,
                api_url=lago_standin.url,
                api_key_encrypted=crypto.encrypt(lago_standin.api_key),
                **settings,
            )
        )
        db.session.commit()


@pytest.fixture
def connected(app, lago_standin):
    """Pier connected to the live Lago stand-in."""
    connect_to(app, lago_standin, suspension_grace_days=14, trial_reminder_days=3)
    return lago_standin


@pytest.fixture
def lago_down(connected):
    """Lago answers 503 to every API call: handlers fall back to the webhook's copy."""
    connected.set_faults(down="503", path_prefix="/api/v1/")
    return connected


@pytest.fixture
def outbox(app, connected):
    """Lago's webhooks kept back in the stand-in, to dispatch when the test says so."""
    lago_call(
        connected,
        "POST",
        "/webhook_endpoints",
        json={
            "webhook_endpoint": {"webhook_url": "http://127.0.0.1:9/lago", "signature_algo": "hmac"}
        },
    )
    connected.standin.webhooks.hold(True)
    connected.seed()
    return LagoOutbox(app, connected)
