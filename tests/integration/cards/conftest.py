"""Acme subscribed in the Lago stand-in, Pier and Lago both on the Stripe stand-in."""

from __future__ import annotations

import contextlib

import pytest
from stripe import CardError

from portal.billing import customers
from portal.extensions import db
from portal.models import Tenant
from tests.integration.handlers.conftest import (  # noqa: F401
    acme,
    connected,
    job_runtime,
    no_proxy,
    outbox,
)
from tests.integration.subscription.conftest import client_as, pull, subscribed  # noqa: F401


@pytest.fixture
def stripe_keys(app, stripe_standin):
    """Pier's Stripe keys from the environment settings, pointed at the stand-in."""
    app.config.update(
        STRIPE_SECRET_KEY=stripe_standin.api_key,
        STRIPE_PUBLISHABLE_KEY=stripe_standin.publishable_key,
        STRIPE_API_BASE=stripe_standin.url,
        STRIPE_JS_URL=stripe_standin.url + "/v3/",
        STRIPE_MAX_RETRIES=0,
    )
    return stripe_standin


@pytest.fixture
def linked(app, subscribed, stripe_keys, stripe_for_lago):  # noqa: F811
    """Acme's Lago customer linked to a new Stripe customer by the customer sync."""
    with app.app_context():
        tenant = db.session.get(Tenant, subscribed.id)
        assert customers.sync_tenant(tenant)
        db.session.commit()
    return subscribed


def save_card(stripe_standin, client, card: str = "pm_card_visa") -> str:
    """Add a card through the page's SetupIntent, as Stripe.js would; returns the SetupIntent id."""
    page = client.get("/cards/add")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    secret = html.split('data-client-secret="')[1].split('"')[0]
    intent_id = secret.split("_secret_")[0]
    stripe = stripe_standin.client(api_key=stripe_standin.publishable_key)
    with contextlib.suppress(CardError):  # a declined card: the return page tells
        stripe.v1.setup_intents.confirm(
            intent_id,
            params={
                "client_secret": secret,
                "payment_method": card,
                "return_url": "http://localhost/cards/added",
            },
        )
    return intent_id
