"""Payment methods: create (test cards), retrieve, update, list, attach, detach."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .. import errors, events, lists, wallet, wire
from ..auth import publishable
from ..objects import public
from ..params import Params
from ..state import Standin, current
from . import customers

bp = Blueprint("payment_methods", __name__)

KIND = wallet.KIND
OTHER_TYPES = (
    "acss_debit",
    "affirm",
    "afterpay_clearpay",
    "alipay",
    "alma",
    "amazon_pay",
    "au_becs_debit",
    "bacs_debit",
    "bancontact",
    "billie",
    "bizum",
    "blik",
    "boleto",
    "cashapp",
    "crypto",
    "custom",
    "customer_balance",
    "eps",
    "fpx",
    "giropay",
    "grabpay",
    "ideal",
    "interac_present",
    "kakao_pay",
    "klarna",
    "konbini",
    "kr_card",
    "link",
    "mb_way",
    "mobilepay",
    "multibanco",
    "naver_pay",
    "nz_bank_account",
    "oxxo",
    "p24",
    "pay_by_bank",
    "payco",
    "paynow",
    "paypal",
    "paypay",
    "payto",
    "pix",
    "promptpay",
    "revolut_pay",
    "samsung_pay",
    "satispay",
    "scalapay",
    "sepa_debit",
    "sequra",
    "sofort",
    "sunbit",
    "swish",
    "twint",
    "upi",
    "us_bank_account",
    "wechat_pay",
    "zip",
)
CREATE = ("type", "card", "billing_details", "metadata", "allow_redisplay")
CREATE_UNSUPPORTED = ("customer", "payment_method", "radar_options", *OTHER_TYPES)
LIST_FILTERS = ("type", "allow_redisplay")


def get_or_404(standin: Standin, pm_id: str) -> dict[str, Any]:
    """A PaymentMethod named in the URL (a test token makes a new one), or 404."""
    doc = wallet.from_token(standin, pm_id) or standin.store.get(pm_id, KIND)
    if doc is None:
        raise errors.no_such(KIND, pm_id)
    return doc


def _filtered(params: Params, customer_id: str | None) -> list[dict[str, Any]]:
    kind = params.string("type")
    redisplay = params.choice("allow_redisplay", wallet.REDISPLAY)
    return current().store.all(
        KIND,
        lambda d: (
            (customer_id is None or d.get("customer") == customer_id)
            and (kind is None or d["type"] == kind)
            and (redisplay is None or d["allow_redisplay"] == redisplay)
        ),
    )


@bp.post("/payment_methods")
@publishable
def create():
    params = wire.params(CREATE, CREATE_UNSUPPORTED)
    return wire.respond(public(wallet.create(current(), params)))


@bp.get("/payment_methods/<pm_id>")
def retrieve(pm_id: str):
    wire.params(())
    return wire.respond(public(get_or_404(current(), pm_id)))


@bp.post("/payment_methods/<pm_id>")
def update(pm_id: str):
    standin = current()
    params = wire.params(
        ("billing_details", "metadata", "allow_redisplay", "card"), ("us_bank_account",)
    )
    pm = get_or_404(standin, pm_id)
    if pm.get("customer") is None:
        raise errors.invalid(
            "You must save this PaymentMethod to a customer before you can update it."
        )
    updated = dict(pm)
    card = params.nested("card", ("exp_month", "exp_year"), ("networks",))
    if card is not None:
        updated["card"] = dict(pm["card"])
        updated["card"]["exp_month"] = card.integer(
            "exp_month", pm["card"]["exp_month"], low=1, high=12
        )
        updated["card"]["exp_year"] = card.integer("exp_year", pm["card"]["exp_year"])
    details = params.nested("billing_details", wallet.BILLING_FIELDS, ("tax_id",))
    if details is not None:
        merged = wallet.billing_details(details)
        updated["billing_details"] = {
            key: merged[key] if details.has(key) else value
            for key, value in pm["billing_details"].items()
        }
    updated["allow_redisplay"] = params.choice(
        "allow_redisplay", wallet.REDISPLAY, pm["allow_redisplay"]
    )
    updated["metadata"] = params.metadata(pm["metadata"])
    standin.store.save(updated)
    previous = events.changes(public(pm), public(updated))
    if previous:
        events.publish(standin, "payment_method.updated", public(updated), previous)
    return wire.respond(public(updated))


@bp.get("/payment_methods")
def list_payment_methods():
    standin = current()
    params = wire.params((*lists.PAGE_PARAMS, *LIST_FILTERS, "customer"), ("customer_account",))
    items = _filtered(params, params.string("customer"))
    return wire.respond(lists.page(standin, KIND, items, params, "/v1/payment_methods"))


@bp.post("/payment_methods/<pm_id>/attach")
def attach(pm_id: str):
    standin = current()
    params = wire.params(("customer",), ("customer_account",))
    customer_id = params.string("customer", required=True)
    pm = get_or_404(standin, pm_id)
    customer = customers.get_or_raise(standin, customer_id, param="customer")
    return wire.respond(public(wallet.attach(standin, pm, customer)))


@bp.post("/payment_methods/<pm_id>/detach")
def detach(pm_id: str):
    standin = current()
    wire.params(())
    return wire.respond(public(wallet.detach(standin, get_or_404(standin, pm_id))))


@bp.get("/customers/<customer_id>/payment_methods")
def list_for_customer(customer_id: str):
    standin = current()
    params = wire.params((*lists.PAGE_PARAMS, *LIST_FILTERS))
    customers.get_or_raise(standin, customer_id)
    items = _filtered(params, customer_id)
    url = f"/v1/customers/{customer_id}/payment_methods"
    return wire.respond(lists.page(standin, KIND, items, params, url))


@bp.get("/customers/<customer_id>/payment_methods/<pm_id>")
def retrieve_for_customer(customer_id: str, pm_id: str):
    standin = current()
    wire.params(())
    customers.get_or_raise(standin, customer_id)
    pm = standin.store.get(pm_id, KIND)
    if pm is None or pm.get("customer") != customer_id:
        raise errors.no_such(KIND, pm_id)
    return wire.respond(public(pm))
