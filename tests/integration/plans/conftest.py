"""Acme on Pro in the Lago stand-in, with Pier's catalogue imported and switches allowed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Plan
from tests.integration.handlers.conftest import acme, connected, no_proxy  # noqa: F401
from tests.integration.subscription.conftest import client_as, subscribed  # noqa: F401


def allow(app, source: str, *targets: str, hidden: tuple[str, ...] = ()) -> None:
    """Let `source` switch to `targets` (the admin's plan settings); hide `hidden`."""
    with app.app_context():
        plans = {p.code: p for p in db.session.scalars(sa.select(Plan))}
        plans[source].switch_targets = [plans[code] for code in targets]
        for code in hidden:
            plans[code].visible = False
        db.session.commit()


@pytest.fixture
def switchable(app, subscribed):  # noqa: F811
    """Pro may move to Starter and Business."""
    allow(app, "pro", "starter", "business")
    return subscribed
