"""Fixtures for the Lago client unit tests: a mock transport and spec-shaped payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from portal.lago import LagoClient
from tests.unit.lago.fakes import API_KEY, API_URL, FixedRandom, Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_client(recorder: Recorder) -> Callable[..., LagoClient]:
    """Build a client whose HTTP goes to `handler(request) -> httpx.Response`."""
    clients: list[LagoClient] = []

    def build(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> LagoClient:
        def record(request: httpx.Request) -> httpx.Response:
            recorder.requests.append(request)
            return handler(request)

        kwargs.setdefault("sleep", recorder.sleep)
        kwargs.setdefault("rng", FixedRandom(1.0))
        client = LagoClient(
            kwargs.pop("api_url", API_URL),
            kwargs.pop("api_key", API_KEY),
            transport=httpx.MockTransport(record),
            **kwargs,
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def charge_json() -> dict[str, Any]:
    return {
        "lago_id": "7c1f8f6a-0c39-4f83-9d37-5d1f1f0b6a11",
        "lago_billable_metric_id": "0b9d8a44-5d0a-4bbf-8c59-1f0f7f3c2b22",
        "code": "api_calls_standard",
        "billable_metric_code": "api_calls",
        "invoice_display_name": "API calls",
        "created_at": "2025-03-04T10:20:30Z",
        "charge_model": "graduated",
        "pay_in_advance": False,
        "invoiceable": True,
        "regroup_paid_fees": None,
        "prorated": False,
        "min_amount_cents": 0,
        "properties": {
            "graduated_ranges": [
                {"from_value": 0, "to_value": 1000, "per_unit_amount": "0", "flat_amount": "0"},
                {
                    "from_value": 1001,
                    "to_value": None,
                    "per_unit_amount": "0.002",
                    "flat_amount": "0",
                },
            ]
        },
        "filters": [],
        "taxes": [],
        "applied_pricing_unit": None,
        "accepts_target_wallet": False,
        "lago_parent_id": None,
    }


@pytest.fixture
def plan_json(charge_json: dict[str, Any]) -> dict[str, Any]:
    return {
        "lago_id": "3a0e2d9f-5a43-4c1e-b1a3-6f3c5c1d7e01",
        "name": "Startup",
        "invoice_display_name": "Startup plan",
        "created_at": "2025-03-04T10:20:30Z",
        "code": "startup",
        "interval": "monthly",
        "description": "For small teams",
        "amount_cents": 4900,
        "amount_currency": "EUR",
        "trial_period": 14.0,
        "pay_in_advance": True,
        "bill_charges_monthly": None,
        "bill_fixed_charges_monthly": None,
        "minimum_commitment": {
            "lago_id": "6b2f0a11-2222-4c1e-b1a3-6f3c5c1d7e02",
            "plan_code": "startup",
            "amount_cents": 10000,
            "invoice_display_name": "Minimum",
            "interval": "monthly",
            "created_at": "2025-03-04T10:20:30Z",
            "updated_at": "2025-03-04T10:20:30Z",
            "taxes": [],
        },
        "charges": [charge_json],
        "fixed_charges": [],
        "taxes": [],
        "usage_thresholds": [],
        "entitlements": [],
        "metadata": None,
        "a_future_field": {"nested": True},
    }


@pytest.fixture
def customer_json() -> dict[str, Any]:
    return {
        "lago_id": "9f7f3f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
        "sequential_id": 12,
        "slug": "LAG-9F7F-012",
        "external_id": "acme-42",
        "billing_entity_code": "default",
        "address_line1": "12 Rue de la Paix",
        "address_line2": None,
        "applicable_timezone": "Europe/Paris",
        "city": "Paris",
        "country": "FR",
        "currency": "EUR",
        "email": "billing@acme.test",
        "legal_name": "Acme SAS",
        "legal_number": "123 456 789",
        "logo_url": None,
        "name": "Acme",
        "firstname": None,
        "lastname": None,
        "account_type": "customer",
        "customer_type": "company",
        "phone": None,
        "state": None,
        "tax_identification_number": "FR12345678901",
        "timezone": "Europe/Paris",
        "url": None,
        "zipcode": "75002",
        "net_payment_term": None,
        "created_at": "2025-01-15T09:00:00Z",
        "updated_at": "2025-02-01T12:30:00.123Z",
        "finalize_zero_amount_invoice": "inherit",
        "skip_invoice_custom_sections": False,
        "billing_configuration": {
            "invoice_grace_period": 3,
            "payment_provider": "stripe",
            "payment_provider_code": "stripe-eu",
            "provider_customer_id": "cus_P1erAcme42",
            "sync": True,
            "sync_with_provider": True,
            "document_locale": "fr",
            "provider_payment_methods": ["card", "sepa_debit"],
        },
        "shipping_address": {"address_line1": None, "city": None, "country": None},
        "metadata": [
            {
                "lago_id": "1c1c1c1c-0000-4000-8000-000000000001",
                "key": "pier_account",
                "value": "17",
                "display_in_invoice": False,
                "created_at": "2025-01-15T09:00:00Z",
            }
        ],
        "integration_customers": [],
    }


@pytest.fixture
def subscription_json(plan_json: dict[str, Any]) -> dict[str, Any]:
    return {
        "lago_id": "b7e0c6a2-3f1d-4a5b-9c8d-7e6f5a4b3c2d",
        "external_id": "acme-42-main",
        "lago_customer_id": "9f7f3f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
        "external_customer_id": "acme-42",
        "billing_entity_code": "default",
        "billing_time": "calendar",
        "name": None,
        "plan_code": "startup",
        "plan_amount_cents": 4900,
        "plan_amount_currency": "EUR",
        "status": "active",
        "created_at": "2025-03-01T00:00:00Z",
        "canceled_at": None,
        "started_at": "2025-03-01T00:00:00Z",
        "ending_at": None,
        "subscription_at": "2025-03-01T00:00:00Z",
        "terminated_at": None,
        "previous_plan_code": None,
        "next_plan_code": "hobby",
        "downgrade_plan_date": "2025-04-01",
        "trial_ended_at": "2025-03-15T00:00:00Z",
        "current_billing_period_started_at": "2025-03-01T00:00:00Z",
        "current_billing_period_ending_at": "2025-03-31T23:59:59Z",
        "on_termination_credit_note": None,
        "on_termination_invoice": "generate",
        "consolidate_invoice": False,
        "cancellation_reason": None,
        "activated_at": "2025-03-01T00:00:00Z",
        "activation_rules": [],
        "purchase_order_number": None,
        "plan": plan_json,
    }


@pytest.fixture
def invoice_json(customer_json: dict[str, Any]) -> dict[str, Any]:
    return {
        "lago_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
        "billing_entity_code": "default",
        "sequential_id": 3,
        "number": "ACME-202503-003",
        "issuing_date": "2025-04-01",
        "payment_dispute_lost_at": None,
        "payment_due_date": "2025-04-15",
        "payment_overdue": False,
        "net_payment_term": 14,
        "invoice_type": "subscription",
        "status": "finalized",
        "payment_status": "pending",
        "currency": "EUR",
        "fees_amount_cents": 5299,
        "coupons_amount_cents": 500,
        "credit_notes_amount_cents": 0,
        "sub_total_excluding_taxes_amount_cents": 4799,
        "taxes_amount_cents": 960,
        "sub_total_including_taxes_amount_cents": 5759,
        "prepaid_credit_amount_cents": 0,
        "prepaid_granted_credit_amount_cents": None,
        "prepaid_purchased_credit_amount_cents": None,
        "progressive_billing_credit_amount_cents": 0,
        "total_amount_cents": 5759,
        "version_number": 4,
        "self_billed": False,
        "file_url": "https://lago.test/rails/active_storage/blobs/invoice.pdf",
        "web_url": None,
        "created_at": "2025-04-01T00:05:00Z",
        "updated_at": "2025-04-01T00:06:00+02:00",
        "customer": customer_json,
        "metadata": [],
        "applied_taxes": [],
    }


@pytest.fixture
def usage_json() -> dict[str, Any]:
    return {
        "from_datetime": "2025-03-01T00:00:00Z",
        "to_datetime": "2025-03-31T23:59:59Z",
        "issuing_date": "2025-04-01",
        "lago_invoice_id": None,
        "currency": "EUR",
        "amount_cents": 399,
        "taxes_amount_cents": 80,
        "total_amount_cents": 479,
        "charges_usage": [
            {
                "units": "2995.0",
                "total_aggregated_units": "2995.0",
                "events_count": 2995,
                "amount_cents": 399,
                "amount_currency": "EUR",
                "pricing_unit_details": None,
                "charge": {
                    "lago_id": "7c1f8f6a-0c39-4f83-9d37-5d1f1f0b6a11",
                    "charge_model": "graduated",
                    "invoice_display_name": "API calls",
                },
                "billable_metric": {
                    "lago_id": "0b9d8a44-5d0a-4bbf-8c59-1f0f7f3c2b22",
                    "name": "API calls",
                    "code": "api_calls",
                    "aggregation_type": "count_agg",
                },
                "filters": [],
                "grouped_usage": [],
            }
        ],
    }


@pytest.fixture
def wallet_json() -> dict[str, Any]:
    return {
        "lago_id": "aa11bb22-cc33-4d44-8e55-ff6677889900",
        "lago_customer_id": "9f7f3f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
        "external_customer_id": "acme-42",
        "billing_entity_code": "default",
        "status": "active",
        "currency": "EUR",
        "name": "Prepaid credits",
        "code": "prepaid",
        "priority": 50,
        "rate_amount": "1.0",
        "credits_balance": "25.5",
        "balance_cents": 2550,
        "consumed_credits": "4.5",
        "created_at": "2025-02-01T08:00:00Z",
        "expiration_at": None,
        "last_balance_sync_at": "2025-03-10T08:00:00Z",
        "last_consumed_credit_at": None,
        "terminated_at": None,
        "invoice_requires_successful_payment": False,
        "ongoing_balance_cents": 2151,
        "ongoing_usage_balance_cents": 399,
        "credits_ongoing_balance": "21.51",
        "credits_ongoing_usage_balance": "3.99",
        "paid_top_up_min_amount_cents": 1000,
        "paid_top_up_max_amount_cents": None,
        "recurring_transaction_rules": [],
        "metadata": None,
    }


@pytest.fixture
def payment_method_json() -> dict[str, Any]:
    return {
        "lago_id": "4cf0c1de-0000-4f07-a543-97c50ec6e8b2",
        "is_default": True,
        "payment_provider_code": "stripe-eu",
        "payment_provider_name": "Stripe",
        "payment_provider_type": "stripe",
        "provider_method_id": "pm_1AcmeCard",
        "created_at": "2025-02-01T08:00:00Z",
    }


@pytest.fixture
def webhook_endpoint_json() -> dict[str, Any]:
    return {
        "lago_id": "e1e2e3e4-0000-4000-8000-000000000009",
        "lago_organization_id": "0f0f0f0f-0000-4000-8000-000000000001",
        "webhook_url": "https://pier.example.com/webhooks/lago",
        "signature_algo": "jwt",
        "name": None,
        "event_types": None,
        "created_at": "2025-01-02T03:04:05Z",
    }


@pytest.fixture
def organization_json() -> dict[str, Any]:
    return {
        "lago_id": "0f0f0f0f-0000-4000-8000-000000000001",
        "name": "Pier Demo",
        "slug": "pier-demo",
        "created_at": "2024-12-01T00:00:00Z",
        "webhook_url": None,
        "webhook_urls": ["https://pier.example.com/webhooks/lago"],
        "country": "FR",
        "default_currency": "EUR",
        "email": "finance@pier.example.com",
        "legal_name": "Pier Demo SAS",
        "timezone": "Europe/Paris",
        "net_payment_term": 14,
        "billing_configuration": {
            "invoice_footer": None,
            "invoice_grace_period": 0,
            "document_locale": "en",
        },
        "events_store": "postgres",
    }
