"""A Lago that accepts connections and never answers holds no page: pages answer from what Pier
stored, live parts give up at the request's deadline, and then the breaker answers at once."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import time_machine

from portal.extensions import db
from portal.models import User
from tests.integration.billing.support import text_of
from tests.integration.subscription.conftest import pull

KNOWN = datetime(2025, 3, 4, 10, 42, 5, tzinfo=UTC)  # 11:42 in Paris, 10:42 in Lisbon
HANG_MS = 30_000
# Each bound below only rules out waiting on the hang: it sits far from both the 0.5 s deadline
# and the 30 s hang, so a busy machine cannot fail it. How fast a page is belongs to bench/.
NO_HANG = 10


@pytest.fixture
def hanging(app, subscribed, lago_standin):
    """Lago last answered at KNOWN, then hangs for 30 s on every call."""
    app.config.update(LAGO_REQUEST_DEADLINE=0.5, LAGO_BREAKER_FAILURES=2, LAGO_BREAKER_COOLDOWN=30)
    for built_with_other_settings in ("pier_lago", "pier_lago_breakers"):
        app.extensions.pop(built_with_other_settings, None)
    with time_machine.travel(KNOWN, tick=True):
        pull(app, subscribed.id)  # a good answer from Lago at KNOWN
        lago_standin.set_faults(latency_ms=HANG_MS)
        yield subscribed
        lago_standin.clear_faults()


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


@pytest.fixture
def admin_in_paris(app, as_role):
    client, person = as_role("admin")
    with app.app_context():
        db.session.get(User, person.id).timezone = "Europe/Paris"
        db.session.commit()
    return client


def test_admin_pages_answer_at_once_and_live_parts_within_the_deadline(hanging, admin_in_paris):
    admin = admin_in_paris
    for path in ("/admin/", "/admin/plans", "/admin/settings/billing", "/admin/tenants"):
        page, took = timed(admin.get, path)
        assert page.status_code == 200, path
        assert took < NO_HANG, f"{path} took {took:.1f} s"

    fragment = {"HX-Request": "true"}
    first, took = timed(lambda: admin.get("/admin/plans/lago", headers=fragment))
    assert took < NO_HANG
    assert "Lago did not answer within 0.5 seconds." in text_of(first)

    mrr, took = timed(lambda: admin.get("/admin/mrr", headers=fragment))
    assert took < NO_HANG
    assert "Not available right now: Lago did not answer within 0.5 seconds." in text_of(mrr)

    # Two failures opened the breaker: now every live part answers without calling Lago (the
    # breaker's sentence, not the deadline's, says so; the time bound only rules out the hang).
    for path in ("/admin/plans/lago", "/admin/mrr", "/admin/health"):
        part, took = timed(admin.get, path, headers=fragment)
        assert took < NO_HANG, f"{path} took {took:.2f} s"
        assert "Lago is not answering; showing what we knew at 11:42." in text_of(part), path


def test_the_customer_page_shows_what_pier_knew_and_actions_do_not_hang(hanging, client_as):
    owner = client_as("owner")
    with owner.application.app_context():
        db.session.scalar(db.select(User).filter_by(email=hanging.owner)).timezone = "Europe/Lisbon"
        db.session.commit()

    refreshed, took = timed(lambda: owner.submit("/subscription/refresh", follow_redirects=True))
    assert took < NO_HANG
    assert "could not reach the billing system" in text_of(refreshed).lower()

    refreshed, took = timed(lambda: owner.submit("/subscription/refresh", follow_redirects=True))
    assert took < NO_HANG

    home, took = timed(lambda: owner.get("/"))
    assert took < NO_HANG
    text = text_of(home)
    assert "The billing system is not answering; showing what we knew at 10:42." in text
    assert "Pro" in text  # the subscription as Pier stored it

    cancel, took = timed(
        lambda: owner.submit(
            "/subscription/cancel",
            {"when": "period_end", "key": "outage-cancel-0000000001", "reason": ""},
            follow_redirects=True,
        )
    )
    assert took < NO_HANG
    assert "nothing was changed" in text_of(cancel).lower()
