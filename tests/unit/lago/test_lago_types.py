"""Typed parsing of spec-shaped Lago payloads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.lago import (
    BillableMetric,
    Customer,
    CustomerUsage,
    Health,
    Invoice,
    Organization,
    PageMeta,
    PaymentMethod,
    Plan,
    Subscription,
    Wallet,
    WebhookEndpoint,
)
from portal.lago._convert import to_cents, to_datetime


def test_plan_with_charges_trial_and_commitment(plan_json):
    plan = Plan.from_api(plan_json)

    assert plan.code == "startup"
    assert plan.amount_cents == 4900
    assert isinstance(plan.amount_cents, int)
    assert plan.amount_currency == "EUR"
    assert plan.interval == "monthly"
    assert plan.trial_period_days == 14.0
    assert plan.has_trial
    assert plan.minimum_commitment_cents == 10000
    assert plan.created_at == datetime(2025, 3, 4, 10, 20, 30, tzinfo=UTC)
    charge = plan.charges[0]
    assert charge.charge_model == "graduated"
    assert charge.billable_metric_code == "api_calls"
    assert charge.properties["graduated_ranges"][1]["per_unit_amount"] == "0.002"
    assert plan.raw["a_future_field"] == {"nested": True}
    assert not hasattr(plan, "a_future_field")


def test_plan_without_trial(plan_json):
    plan_json["trial_period"] = None
    plan_json["minimum_commitment"] = None
    plan = Plan.from_api(plan_json)
    assert plan.trial_period_days == 0.0
    assert not plan.has_trial
    assert plan.minimum_commitment_cents is None


SEATS = {
    "code": "seats",
    "name": "Team seats",
    "description": None,
    "privileges": [
        {"code": "max", "name": "Maximum", "value_type": "integer", "value": 10, "config": {}},
        {"code": "root", "name": None, "value_type": "boolean", "value": True, "config": {}},
    ],
}


def test_plan_entitlements_as_lago_api_serializes_them_and_as_the_spec_wraps_them(plan_json):
    flat = Plan.from_api(plan_json | {"entitlements": [SEATS]})
    wrapped = Plan.from_api(plan_json | {"entitlements": [{"entitlement": SEATS}]})
    assert flat.entitlements == wrapped.entitlements
    [seats] = flat.entitlements
    assert (seats.code, seats.name, seats.description) == ("seats", "Team seats", None)
    assert [(p.code, p.value_type, p.value) for p in seats.privileges] == [
        ("max", "integer", 10),
        ("root", "boolean", True),
    ]
    assert Plan.from_api(plan_json).entitlements == ()


def test_types_are_frozen(plan_json):
    plan = Plan.from_api(plan_json)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.amount_cents = 1  # type: ignore[misc]


def test_customer_with_billing_configuration_and_metadata(customer_json):
    customer = Customer.from_api(customer_json)

    assert customer.external_id == "acme-42"
    assert customer.display_name == "Acme"
    assert customer.payment_provider == "stripe"
    assert customer.provider_customer_id == "cus_P1erAcme42"
    assert customer.document_locale == "fr"
    assert customer.address.city == "Paris"
    assert customer.address.address_line2 is None
    assert customer.metadata == {"pier_account": "17"}
    assert customer.updated_at == datetime(2025, 2, 1, 12, 30, 0, 123000, tzinfo=UTC)


def test_customer_display_name_falls_back(customer_json):
    customer_json.update(name=None, firstname="Ada", lastname="Lovelace")
    assert Customer.from_api(customer_json).display_name == "Ada Lovelace"
    customer_json.update(firstname=None, lastname=None)
    assert Customer.from_api(customer_json).display_name == "acme-42"


def test_subscription_with_next_plan_and_plan(subscription_json):
    sub = Subscription.from_api(subscription_json)

    assert sub.is_active
    assert sub.next_plan_code == subscription_json["next_plan_code"]
    assert sub.downgrade_plan_date == date(2025, 4, 1)
    assert sub.plan is not None
    assert sub.plan.code == "startup"
    assert sub.trial_ended_at == datetime(2025, 3, 15, tzinfo=UTC)
    assert sub.terminated_at is None


def test_invoice_amounts_and_dates(invoice_json):
    invoice = Invoice.from_api(invoice_json)

    assert invoice.total_amount_cents == 5759
    assert invoice.taxes_amount_cents == 960
    assert invoice.coupons_amount_cents == 500
    assert invoice.issuing_date == date(2025, 4, 1)
    assert invoice.payment_due_date == date(2025, 4, 15)
    assert invoice.external_customer_id == "acme-42"
    assert invoice.updated_at == datetime(2025, 3, 31, 22, 6, tzinfo=UTC)
    assert invoice.updated_at.tzinfo is UTC


def test_customer_usage(usage_json):
    usage = CustomerUsage.from_api(usage_json)

    assert usage.total_amount_cents == 479
    assert usage.from_datetime == datetime(2025, 3, 1, tzinfo=UTC)
    line = usage.charges_usage[0]
    assert line.units == Decimal("2995.0")
    assert line.billable_metric_code == "api_calls"
    assert line.billable_metric_name == "API calls"
    assert line.charge_model == "graduated"
    assert line.events_count == 2995


def test_wallet_balances(wallet_json):
    wallet = Wallet.from_api(wallet_json)

    assert wallet.balance_cents == 2550
    assert wallet.credits_balance == Decimal("25.5")
    assert wallet.rate_amount == Decimal("1.0")
    assert wallet.ongoing_balance_cents == 2151
    assert wallet.credits_ongoing_balance == Decimal("21.51")
    assert wallet.paid_top_up_min_amount_cents == 1000
    assert wallet.paid_top_up_max_amount_cents is None


def test_small_objects(payment_method_json, webhook_endpoint_json, organization_json):
    method = PaymentMethod.from_api(payment_method_json)
    assert method.is_default
    assert method.payment_provider_type == "stripe"

    endpoint = WebhookEndpoint.from_api(
        {**webhook_endpoint_json, "event_types": ["invoice.created"]}
    )
    assert endpoint.event_types == ("invoice.created",)
    assert endpoint.signature_algo == "jwt"

    org = Organization.from_api(organization_json)
    assert org.default_currency == "EUR"
    assert org.document_locale == "en"
    assert org.webhook_urls == ("https://pier.example.com/webhooks/lago",)


def test_billable_metric_and_health():
    metric = BillableMetric.from_api(
        {
            "lago_id": "0b9d8a44-5d0a-4bbf-8c59-1f0f7f3c2b22",
            "name": "API calls",
            "code": "api_calls",
            "aggregation_type": "count_agg",
            "recurring": False,
            "created_at": "2025-03-04T10:20:30Z",
            "field_name": None,
            "filters": [{"key": "region", "values": ["eu", "us"]}],
        }
    )
    assert metric.filters[0].values == ("eu", "us")
    health = Health.from_api({"version": "v1.51.0", "message": "Success"})
    assert health.ok


def test_page_meta():
    meta = PageMeta.from_api(
        {
            "current_page": 0,
            "next_page": None,
            "prev_page": None,
            "total_pages": 0,
            "total_count": 0,
        }
    )
    assert meta.next_page is None
    assert meta.total_count == 0


def test_hashable_even_with_dict_fields(plan_json):
    plan = Plan.from_api(plan_json)
    assert hash(plan) == hash(Plan.from_api(plan_json))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-04T10:20:30Z", datetime(2025, 3, 4, 10, 20, 30, tzinfo=UTC)),
        ("2025-03-04T12:20:30+02:00", datetime(2025, 3, 4, 10, 20, 30, tzinfo=UTC)),
        ("2025-03-04T10:20:30", datetime(2025, 3, 4, 10, 20, 30, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_datetimes_become_aware_utc(value, expected):
    assert to_datetime(value) == expected


@pytest.mark.parametrize("bad", ["yesterday", 1700000000])
def test_bad_datetimes_are_refused(bad):
    with pytest.raises(ValueError):
        to_datetime(bad)


@pytest.mark.parametrize(("value", "expected"), [(4900, 4900), (4900.0, 4900), ("4900", 4900)])
def test_cents_are_integers(value, expected):
    assert to_cents(value) == expected


@pytest.mark.parametrize("bad", [49.5, "49.50", True, None])
def test_fractional_cents_are_refused(bad):
    with pytest.raises(ValueError, match="cents"):
        to_cents(bad)
