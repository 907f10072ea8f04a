"""Small helpers shared by the stand-in's billing tests (customers, subscriptions, webhooks)."""

from __future__ import annotations

import json
from typing import Any

import httpx

START = "2030-01-10T09:00:00Z"


def ok(reply) -> Any:
    """The JSON body of a successful reply (None when empty)."""
    assert reply.status_code == 200, f"{reply.status_code}: {reply.text}"
    return reply.json() if reply.content else None


def add_endpoint(client, url: str, **fields: Any) -> dict[str, Any]:
    """Register a webhook endpoint."""
    body = {"webhook_endpoint": {"webhook_url": url} | fields}
    return ok(client.post("/webhook_endpoints", json=body))["webhook_endpoint"]


def customer(
    client,
    external_id: str = "acme",
    *,
    stripe: bool = True,
    card: str | None = "succeeds",
    **fields: Any,
) -> dict:
    """A customer; unless `stripe=False`, Lago creates it at the pretend Stripe and the customer
    adds a `card` through the checkout URL (None: no card)."""
    body: dict[str, Any] = {"external_id": external_id, "name": external_id.title()} | fields
    if stripe:
        body["billing_configuration"] = {"payment_provider": "stripe", "sync_with_provider": True}
    created = ok(client.post("/customers", json={"customer": body}))["customer"]
    if stripe and card:
        add_card(client, external_id, card)
    return created


def add_card(client, external_id: str = "acme", card: str = "succeeds") -> dict[str, Any]:
    """The customer adds a card on the page behind Lago's checkout URL (it becomes the default)."""
    base = str(client.base_url).split("/api/v1")[0]
    reply = httpx.post(f"{base}/_sandbox/setup/{external_id}", json={"card": card}, trust_env=False)
    return ok(reply)["payment_method"]


def subscribe(
    client,
    plan_code: str,
    external_id: str = "sub_1",
    external_customer_id: str = "acme",
    **fields: Any,
) -> dict[str, Any]:
    """POST /subscriptions."""
    body = {
        "external_customer_id": external_customer_id,
        "plan_code": plan_code,
        "external_id": external_id,
    } | fields
    return ok(client.post("/subscriptions", json={"subscription": body}))["subscription"]


def plan(client, code: str, amount_cents: int, **fields: Any) -> dict[str, Any]:
    """A monthly USD plan."""
    body = {
        "name": code.title(),
        "code": code,
        "interval": "monthly",
        "amount_cents": amount_cents,
        "amount_currency": "USD",
        "pay_in_advance": False,
    } | fields
    return ok(client.post("/plans", json={"plan": body}))["plan"]


def invoices(client, **params: Any) -> list[dict[str, Any]]:
    """GET /invoices (newest first)."""
    return ok(client.get("/invoices", params=params))["invoices"]


def types(lago_standin, **filters: Any) -> list[str]:
    """The webhook types recorded so far, oldest first."""
    return [w["webhook_type"] for w in lago_standin.webhooks(**filters)]


def payloads(lago_standin, webhook_type: str) -> list[dict[str, Any]]:
    """The bodies of the recorded webhooks of one type, oldest first."""
    return [json.loads(w["payload"]) for w in lago_standin.webhooks(webhook_type=webhook_type)]


def coupon_body(code: str, **fields: Any) -> dict[str, Any]:
    """A `coupon` for `POST /coupons`: $10.00 off once, never expiring, unless told otherwise."""
    return {
        "name": code.replace("_", " ").title(),
        "code": code,
        "coupon_type": "fixed_amount",
        "amount_cents": 1000,
        "amount_currency": "USD",
        "frequency": "once",
        "expiration": "no_expiration",
    } | fields


def percentage_terms(rate: str, periods: int) -> dict[str, Any]:
    """A coupon's terms: `rate` % off for `periods` billing periods."""
    return {
        "coupon_type": "percentage",
        "percentage_rate": rate,
        "amount_cents": None,
        "amount_currency": None,
        "frequency": "recurring",
        "frequency_duration": periods,
    }
