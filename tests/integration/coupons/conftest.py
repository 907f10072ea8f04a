"""Acme subscribed to Pro in the Lago stand-in, with coupons in Lago's catalogue."""

from __future__ import annotations

import pytest

from tests.integration.handlers.conftest import acme, connected, no_proxy, outbox  # noqa: F401
from tests.integration.handlers.support import lago_call
from tests.integration.subscription.conftest import (  # noqa: F401
    client_as,
    pull,
    subscribe_acme_to_pro,
)
from tests.sandbox.billing_helpers import coupon_body, percentage_terms

START = "2030-01-10T09:00:00Z"
FEB = "2030-02-01T01:00:00Z"


def make_coupon(standin, code: str, **fields) -> dict:
    """A coupon in Lago's catalogue ($10.00 off once unless told otherwise)."""
    body = {"coupon": coupon_body(code, **fields)}
    return lago_call(standin, "POST", "/coupons", json=body)["coupon"]


@pytest.fixture
def subscribed(app, acme, connected):  # noqa: F811
    """Pro for Acme from 10 January 2030 (the stand-in's clock there), and three coupons:
    $10.00 off once (not reusable), 25 % off for 2 periods, $5.00 off forever until 1 March."""
    subscribe_acme_to_pro(app, acme, connected, at=START)
    make_coupon(connected, "welcome", reusable=False)
    make_coupon(connected, "quarter_off", **percentage_terms("25", 2))
    make_coupon(
        connected,
        "loyal",
        amount_cents=500,
        frequency="forever",
        expiration="time_limit",
        expiration_at="2030-03-01T00:00:00Z",
    )
    return acme


@pytest.fixture
def admin(as_role):
    client, _ = as_role("admin")
    return client
