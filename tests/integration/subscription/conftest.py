"""Acme connected to the Lago stand-in, with the demo plans imported and a Pro subscription."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.billing import catalogue, reconcile
from portal.billing.connection import lago_client
from portal.extensions import db
from portal.models import Tenant, User
from tests.conftest import log_in
from tests.integration.handlers.conftest import acme, connected, no_proxy  # noqa: F401
from tests.integration.handlers.support import lago_call

SUBSCRIPTION = "acme-main"


def subscribe(standin, plan_code: str) -> dict:
    """POST /subscriptions for Acme's one subscription, as Pier does."""
    return lago_call(
        standin,
        "POST",
        "/subscriptions",
        json={
            "subscription": {
                "external_customer_id": "pier_acme",
                "external_id": SUBSCRIPTION,
                "plan_code": plan_code,
            }
        },
    )["subscription"]


def pull(app, tenant_id: int) -> None:
    """Bring the mirror in line with the stand-in, as reconciliation does."""
    with app.app_context():
        reconcile.reconcile_tenant(db.session.get(Tenant, tenant_id))
        db.session.commit()


def subscribe_acme_to_pro(app, acme, connected, *, at: str | None = None):  # noqa: F811
    """Pro for Acme in the stand-in (from `at` when given) and in the mirror; the catalogue
    imported into Pier."""
    connected.seed()
    if at is not None:
        connected.travel_to(at)
    lago_call(
        connected,
        "POST",
        "/customers",
        json={"customer": {"external_id": "pier_acme", "name": "Acme Inc.", "currency": "USD"}},
    )
    subscribe(connected, "pro")
    with app.app_context():
        catalogue.sync_catalogue(lago_client(), import_new=True)
        db.session.commit()
    pull(app, acme.id)
    return acme


@pytest.fixture
def subscribed(app, acme, connected):  # noqa: F811
    """Pro for Acme in the stand-in and in the mirror; the catalogue imported into Pier."""
    return subscribe_acme_to_pro(app, acme, connected)


@pytest.fixture
def client_as(app, subscribed):
    """A logged-in client for one of Acme's people by role."""

    def make(role: str):
        email = {"owner": subscribed.owner, "billing_admin": subscribed.billing_admin}.get(
            role, subscribed.member
        )
        with app.app_context():
            user = db.session.scalar(db.select(User).filter_by(email=email))
            person = SimpleNamespace(id=user.id)
        return log_in(app.test_client(), person)

    return make
