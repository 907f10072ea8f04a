"""A Lago that does not preview is remembered for a while: the estimate then asks it nothing."""

from __future__ import annotations

import redis

from portal.plans.services import PREVIEW_REFUSAL_SECONDS

PREVIEW = "/plans/business/preview"
NO_ANSWER = "did not answer, so this is our estimate"


def _refusals(app) -> dict[str, int]:
    conn = redis.Redis.from_url(app.config["REDIS_URL"])
    found = {}
    for key in conn.scan_iter(match=f"{app.config['PIER_INSTANCE']}:lago:preview-refused:*"):
        found[key.decode().rsplit(":", 1)[1]] = conn.ttl(key)
    return found


def test_a_free_lago_is_asked_once_then_the_estimate_goes_alone(
    app, client_as, switchable, connected
):
    owner = client_as("owner")
    first = owner.get(PREVIEW).get_data(as_text=True)
    assert 'data-source="estimate"' in first
    refusals = _refusals(app)
    assert set(refusals) == {"subscriptions", "proposals"}
    assert all(0 < ttl <= PREVIEW_REFUSAL_SECONDS for ttl in refusals.values())

    # Any call to Lago's preview would now fail and say so; none is made.
    connected.set_faults(down="503", path_prefix="/api/v1/invoices/preview")
    try:
        again = owner.get(PREVIEW).get_data(as_text=True)
    finally:
        connected.clear_faults()
    assert 'data-source="estimate"' in again
    assert NO_ANSWER not in again


def test_once_the_refusal_expires_lago_is_asked_again(app, client_as, switchable, connected):
    owner = client_as("owner")
    owner.get(PREVIEW)
    connected.standin.configure(premium=True)
    try:
        assert 'data-source="estimate"' in owner.get(PREVIEW).get_data(as_text=True)
        redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()  # as after ten minutes
        assert 'data-source="lago"' in owner.get(PREVIEW).get_data(as_text=True)
    finally:
        connected.standin.configure(premium=False, premium_integrations=["preview"])


def test_without_the_preview_integration_only_changes_are_remembered(
    app, client_as, switchable, connected
):
    connected.standin.configure(premium=True, premium_integrations=[])
    try:
        shown = client_as("owner").get(PREVIEW).get_data(as_text=True)
    finally:
        connected.standin.configure(premium=False, premium_integrations=["preview"])
    assert 'data-source="estimate"' in shown
    assert set(_refusals(app)) == {"subscriptions"}


def test_a_failing_lago_is_not_taken_for_a_refusal(app, client_as, switchable, connected):
    connected.set_faults(down="503", path_prefix="/api/v1/invoices/preview")
    try:
        shown = client_as("owner").get(PREVIEW).get_data(as_text=True)
    finally:
        connected.clear_faults()
    assert NO_ANSWER in shown
    assert _refusals(app) == {}
