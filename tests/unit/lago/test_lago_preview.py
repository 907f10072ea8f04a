"""LagoClient.preview_invoice: Lago's request shape, a typed preview, and "unavailable"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.lago import LagoFeatureUnavailable, LagoNotFound, LagoPreviewUnavailable
from tests.unit.lago.fakes import body_of, lago_json

PREVIEW = {
    "lago_id": None,
    "number": "",
    "issuing_date": "2030-01-10",
    "currency": "USD",
    "fees_amount_cents": 7026,
    "taxes_amount_cents": 0,
    "coupons_amount_cents": 0,
    "credit_notes_amount_cents": 2058,
    "prepaid_credit_amount_cents": 0,
    "total_amount_cents": 4968,
    "fees": [
        {
            "lago_id": None,
            "item": {"type": "subscription", "code": "business", "name": "Business"},
            "amount_cents": 7026,
            "units": "1.0",
            "external_subscription_id": "sub_1",
            "from_date": "2030-01-10T09:00:00Z",
            "to_date": "2030-01-31T23:59:59Z",
        }
    ],
    "credits": [
        {"lago_id": None, "amount_cents": 2058, "item": {"type": "credit_note", "code": ""}}
    ],
    "subscriptions": [{"plan_code": "pro"}, {"plan_code": "business"}],
}


def test_plan_change_preview_is_sent_without_root_key_and_typed(make_client, recorder):
    client = make_client(lambda r: lago_json(200, {"invoice": PREVIEW}))
    preview = client.preview_invoice("acme", subscription_ids=["sub_1"], new_plan_code="business")
    [request] = recorder.requests
    assert (request.method, request.url.path) == ("POST", "/api/v1/invoices/preview")
    assert body_of(request) == {
        "customer": {"external_id": "acme"},
        "subscriptions": {"external_ids": ["sub_1"], "plan_code": "business"},
    }
    assert preview.issuing_date == date(2030, 1, 10)
    assert (preview.fees_amount_cents, preview.credit_notes_amount_cents) == (7026, 2058)
    assert preview.total_amount_cents == 4968
    [fee] = preview.fees
    assert (fee.item_type, fee.item_code, fee.item_name, fee.units) == (
        "subscription",
        "business",
        "Business",
        Decimal("1.0"),
    )
    assert fee.to_datetime == datetime(2030, 1, 31, 23, 59, 59, tzinfo=UTC)
    assert [c.amount_cents for c in preview.credits] == [2058]
    assert preview.plan_codes == ("pro", "business")


def test_proposal_and_termination_bodies(make_client, recorder):
    client = make_client(lambda r: lago_json(200, {"invoice": PREVIEW}))
    client.preview_invoice(
        "acme",
        plan_code="pro",
        subscription_at=datetime(2030, 2, 1, tzinfo=UTC),
        billing_time="anniversary",
    )
    client.preview_invoice(
        "acme", subscription_ids=["sub_1"], terminated_at=datetime(2030, 1, 20, tzinfo=UTC)
    )
    proposal, termination = (body_of(r) for r in recorder.requests)
    assert proposal == {
        "customer": {"external_id": "acme"},
        "plan_code": "pro",
        "subscription_at": "2030-02-01T00:00:00+00:00",
        "billing_time": "anniversary",
    }
    assert termination["subscriptions"] == {
        "external_ids": ["sub_1"],
        "terminated_at": "2030-01-20T00:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("status", "code"), [(403, "feature_unavailable"), (405, "premium_integration_missing")]
)
def test_a_lago_without_previews_raises_preview_unavailable(make_client, status, code):
    error = {"status": status, "error": "Forbidden", "code": code}
    client = make_client(lambda r: lago_json(status, error))
    with pytest.raises(LagoPreviewUnavailable) as caught:
        client.preview_invoice("acme", plan_code="pro")
    assert isinstance(caught.value, LagoFeatureUnavailable)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.request == "POST /invoices/preview"
    assert "premium" in caught.value.hint


def test_other_errors_are_not_preview_unavailable(make_client):
    body = {"status": 404, "error": "Not Found", "code": "plan_not_found"}
    client = make_client(lambda r: lago_json(404, body))
    with pytest.raises(LagoNotFound) as caught:
        client.preview_invoice("acme", plan_code="platinum")
    assert not isinstance(caught.value, LagoPreviewUnavailable)
