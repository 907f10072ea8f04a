"""Current usage (with "no usage yet") and past usage through LagoClient."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.lago import CustomerUsage, LagoNotAllowed, LagoNotFound, NoUsageYet
from tests.unit.lago.fakes import lago_json


def not_allowed(code: str):
    return lago_json(405, {"status": 405, "error": "Method Not Allowed", "code": code})


def test_no_active_subscription_is_no_usage_yet(make_client):
    client = make_client(lambda r: not_allowed("no_active_subscription"))
    result = client.get_current_usage("acme-42", "acme-42-main")
    assert result == NoUsageYet("acme-42", "acme-42-main")


def test_other_refusals_stay_errors(make_client):
    client = make_client(lambda r: not_allowed("full_usage_not_allowed"))
    with pytest.raises(LagoNotAllowed) as caught:
        client.get_current_usage("acme-42", "acme-42-main")
    assert caught.value.code == "full_usage_not_allowed"
    missing = make_client(
        lambda r: lago_json(
            404, {"status": 404, "error": "Not Found", "code": "customer_not_found"}
        )
    )
    with pytest.raises(LagoNotFound):
        missing.get_current_usage("acme-42", "acme-42-main")


def test_current_usage_is_typed(make_client, usage_json):
    client = make_client(lambda r: lago_json(200, {"customer_usage": usage_json}))
    usage = client.get_current_usage("acme-42", "acme-42-main")
    assert isinstance(usage, CustomerUsage)
    assert usage.charges_usage[0].units == Decimal("2995.0")


def test_past_usage_sends_the_filters_and_reads_one_page(make_client, recorder, usage_json):
    period = usage_json | {"lago_invoice_id": "1a901a90-1a90-1a90-1a90-1a901a901a90"}
    meta = {"current_page": 1, "next_page": 2, "prev_page": None, "total_pages": 3}
    client = make_client(
        lambda r: lago_json(200, {"usage_periods": [period], "meta": meta | {"total_count": 3}})
    )
    page = client.get_past_usage(
        "acme 42", "acme-42-main", periods_count=1, billable_metric_code="api_calls"
    )
    [request] = recorder.requests
    assert request.url.raw_path.decode().startswith("/api/v1/customers/acme%2042/past_usage?")
    assert dict(request.url.params) == {
        "external_subscription_id": "acme-42-main",
        "periods_count": "1",
        "billable_metric_code": "api_calls",
        "page": "1",
        "per_page": "1",
    }
    [usage] = page.items
    assert usage.lago_invoice_id == period["lago_invoice_id"]
    assert usage.total_amount_cents == 479
    assert page.meta.next_page == 2


def test_past_usage_defaults_to_full_pages(make_client, recorder):
    empty = {"current_page": 0, "next_page": None, "prev_page": None, "total_pages": 0}
    client = make_client(
        lambda r: lago_json(200, {"usage_periods": [], "meta": empty | {"total_count": 0}})
    )
    assert client.get_past_usage("acme-42", "acme-42-main").items == ()
    params = dict(recorder.requests[0].url.params)
    assert params["per_page"] == "100"
    assert "periods_count" not in params
