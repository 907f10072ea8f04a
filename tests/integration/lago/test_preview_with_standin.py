"""Pier's Lago client previews invoices on the Lago stand-in, and tells a free Lago apart."""

from __future__ import annotations

import pytest

from portal.lago import LagoClient, LagoPreviewUnavailable

START = "2030-01-10T09:00:00Z"


@pytest.fixture
def lago(lago_standin):
    lago_standin.seed()
    lago_standin.travel_to(START)
    lago_standin.standin.configure(premium=True)
    with LagoClient(lago_standin.url, lago_standin.api_key, max_retries=0) as client:
        client.upsert_customer({"external_id": "acme", "name": "Acme"})
        body = {"external_customer_id": "acme", "plan_code": "pro", "external_id": "sub_1"}
        client.request("POST", "/subscriptions", body={"subscription": body})
        yield client
    lago_standin.standin.configure(premium=False, premium_integrations=["preview"])


def test_upgrade_preview_shows_the_charge_and_the_credit(lago):
    preview = lago.preview_invoice("acme", subscription_ids=["sub_1"], new_plan_code="business")
    base = [f for f in preview.fees if f.item_type == "subscription"]
    assert [(f.item_code, f.amount_cents) for f in base] == [("business", 7026)]
    assert [c.amount_cents for c in preview.credits] == [2058]
    assert preview.total_amount_cents == 7026 - 2058
    assert preview.plan_codes == ("pro", "business")


def test_proposal_preview(lago):
    preview = lago.preview_invoice("acme", plan_code="starter")
    # Starter's 14-day trial covers the rest of January's first days: 8 of 31 days billed.
    assert [(f.item_code, f.amount_cents) for f in preview.fees] == [("starter", 232)]


def test_free_lago_and_missing_integration_are_preview_unavailable(lago, lago_standin):
    lago_standin.standin.configure(premium_integrations=[])
    assert lago.preview_invoice("acme", plan_code="starter").currency == "USD"
    with pytest.raises(LagoPreviewUnavailable) as missing:
        lago.preview_invoice("acme", subscription_ids=["sub_1"])
    lago_standin.standin.configure(premium=False)
    with pytest.raises(LagoPreviewUnavailable) as free:
        lago.preview_invoice("acme", plan_code="starter")
    assert (missing.value.status, free.value.status) == (405, 403)
