"""Acme subscribed to Pro in the Lago stand-in, as in the subscription tests."""

from __future__ import annotations

import pytest

from tests.integration.handlers.conftest import acme, connected, no_proxy, outbox  # noqa: F401
from tests.integration.handlers.support import lago_call
from tests.integration.subscription.conftest import (  # noqa: F401
    SUBSCRIPTION,
    client_as,
    pull,
    subscribe,
    subscribe_acme_to_pro,
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
def subscribed(app, acme, connected):  # noqa: F811
    """Acme on Pro from 10 January 2030, 09:00 UTC (the stand-in's clock pinned there)."""
    return subscribe_acme_to_pro(app, acme, connected, at=START)


@pytest.fixture
def lago_settings(connected):  # noqa: F811
    """Change the stand-in's settings for this test (premium licence, integrations, whether it
    has the alerts API); they are put back afterwards."""
    yield connected.standin.configure
    connected.standin.configure(premium=False, premium_integrations=["preview"], alerts_api=True)
