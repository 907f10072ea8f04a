"""Acme subscribed to Pro in the Lago stand-in, as in the subscription tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.billing import catalogue
from portal.billing.connection import lago_client
from portal.extensions import db
from portal.models import User
from tests.conftest import log_in
from tests.integration.handlers.conftest import acme, connected, no_proxy  # noqa: F401
from tests.integration.handlers.support import lago_call
from tests.integration.subscription.conftest import (  # noqa: F401
    SUBSCRIPTION,
    client_as,
    pull,
    subscribe,
    subscribed,
)

START = "2030-01-10T09:00:00Z"
CURRENT = {"HX-Request": "true", "HX-Target": "usage-current"}


def send_calls(standin, prefix: str, count: int, code: str = "api_calls") -> None:
    """`count` events of one metric on Acme's subscription (seats: `count` distinct users)."""
    for start in range(0, count, 100):
        events = [
            {
                "transaction_id": f"{prefix}-{n}",
                "external_subscription_id": SUBSCRIPTION,
                "code": code,
                "properties": {"user_id": f"{prefix}-user-{n}"},
            }
            for n in range(start, min(count, start + 100))
        ]
        lago_call(standin, "POST", "/events/batch", json={"events": events})


@pytest.fixture
def subscribed_in_2030(app, acme, connected):  # noqa: F811
    """Acme on Pro from 10 January 2030, 09:00 UTC (the stand-in's clock pinned there)."""
    connected.seed()
    connected.travel_to(START)
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
def member_2030(app, subscribed_in_2030):
    """Acme's member, logged in."""
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=subscribed_in_2030.member))
        person = SimpleNamespace(id=user.id)
    return log_in(app.test_client(), person)
