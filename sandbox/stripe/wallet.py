"""Payment methods as services: create from test cards, resolve tokens, attach, detach."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import cards, errors, events, ids
from .objects import public
from .params import Params

if TYPE_CHECKING:
    from .state import Standin

KIND = "payment_method"
CUSTOMER_KIND = "customer"
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
BILLING_FIELDS = ("address", "email", "name", "phone")
CARD_FIELDS = ("token", "number", "exp_month", "exp_year", "cvc")
REDISPLAY = ("always", "limited", "unspecified")
DISPLAY_BRANDS = {"amex": "american_express", "diners": "diners_club"}
CONSUMED = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
    "attachment, shared with a connected account without Customer attachment, or was detached "
    "from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must "
    "attach it to a Customer first."
)


def card_error(decline_code: str, **extra: Any) -> errors.StripeError:
    """402 card_error for a decline code (`card_declined`, `expired_card`, ...)."""
    code, message, param = cards.DECLINES[decline_code]
    return errors.error(
        402, message, type="card_error", code=code, param=param, decline_code=decline_code, **extra
    )


def _input_error(code: str, message: str, param: str) -> errors.StripeError:
    return errors.error(402, message, type="card_error", code=code, param=param)


def billing_details(params: Params | None) -> dict[str, Any]:
    """`billing_details[...]` as Stripe stores it (every field present, unset ones null)."""
    details: dict[str, Any] = {
        "address": dict.fromkeys(ADDRESS_FIELDS),
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }
    if params is None:
        return details
    for field in ("email", "name", "phone"):
        details[field] = params.string(field)
    address = params.nested("address", ADDRESS_FIELDS)
    if address is not None:
        details["address"] = {field: address.string(field) for field in ADDRESS_FIELDS}
    return details


def new_payment_method(
    standin: Standin,
    card: cards.CardProfile,
    *,
    exp: tuple[int, int] | None = None,
    cvc_given: bool = False,
    details: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
    allow_redisplay: str = "unspecified",
) -> dict[str, Any]:
    """Store a new card PaymentMethod; token cards expire three years from the stand-in's now."""
    now = datetime.fromtimestamp(standin.clock.now(), UTC)
    exp_month, exp_year = exp or (now.month, now.year + 3)
    doc = {
        "id": ids.new_id(KIND),
        "object": KIND,
        "allow_redisplay": allow_redisplay,
        "billing_details": details or billing_details(None),
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass" if cvc_given else None,
            },
            "country": card.country,
            "display_brand": DISPLAY_BRANDS.get(card.brand, card.brand),
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": card.fingerprint(),
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": standin.clock.now(),
        "customer": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": "card",
        "_card": {"number": card.number, "setup": card.setup, "decline_code": card.decline_code},
    }
    return standin.store.insert(KIND, doc)


def from_token(standin: Standin, token: str) -> dict[str, Any] | None:
    """A new PaymentMethod for a `pm_card_*` / `tok_*` token, or None if it is not one."""
    card = cards.by_token(token)
    return new_payment_method(standin, card) if card else None


def card_from_params(standin: Standin, params: Params) -> tuple[cards.CardProfile, dict]:
    """The card and its extra fields from `card[token]` or `card[number]`/`exp_*`/`cvc`."""
    card_params = params.nested("card", CARD_FIELDS, ("networks",))
    if card_params is None:
        raise errors.missing_param(params.name("card"))
    token = card_params.string("token")
    if token is not None:
        card = cards.by_token(token)
        if card is None:
            raise errors.invalid(
                f"No such token: '{token}'", card_params.name("token"), "resource_missing"
            )
        return card, {}
    number = card_params.string("number", required=True)
    card = cards.by_number(number)
    if card is None:
        raise _input_error("incorrect_number", "Your card number is incorrect.", "number")
    month = card_params.integer("exp_month")
    year = card_params.integer("exp_year")
    if month is None:
        raise errors.missing_param(card_params.name("exp_month"))
    if year is None:
        raise errors.missing_param(card_params.name("exp_year"))
    year = year + 2000 if year < 100 else year
    now = datetime.fromtimestamp(standin.clock.now(), UTC)
    if not 1 <= month <= 12:
        raise _input_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month"
        )
    if (year, month) < (now.year, now.month):
        raise _input_error(
            "invalid_expiry_year", "Your card's expiration year is invalid.", "exp_year"
        )
    cvc = card_params.string("cvc")
    if cvc is not None and not re.fullmatch(r"\d{3,4}", cvc):
        raise _input_error("invalid_cvc", "Your card's security code is invalid.", "cvc")
    return card, {"exp": (month, year), "cvc_given": cvc is not None}


def create(standin: Standin, params: Params) -> dict[str, Any]:
    """A new card PaymentMethod from create (or `payment_method_data`) parameters."""
    kind = params.string("type", required=True)
    if kind != "card":
        raise errors.not_in_sandbox(f"{params.name('type')}={kind}")
    card, extra = card_from_params(standin, params)
    return new_payment_method(
        standin,
        card,
        details=billing_details(params.nested("billing_details", BILLING_FIELDS, ("tax_id",))),
        metadata=params.metadata(),
        allow_redisplay=params.choice("allow_redisplay", REDISPLAY, "unspecified"),
        **extra,
    )


def resolve(standin: Standin, value: str, param: str) -> dict[str, Any]:
    """A stored PaymentMethod by id, or a new one for a test token; 400 when neither."""
    doc = from_token(standin, value) or standin.store.get(value, KIND)
    if doc is None:
        raise errors.no_such(KIND, value, param=param, status=400)
    return doc


def check_usable(pm: dict[str, Any], customer_id: str | None) -> None:
    """Refuse a detached PaymentMethod, or one attached to another customer."""
    if pm.get("_detached"):
        raise errors.invalid(CONSUMED, "payment_method")
    owner = pm.get("customer")
    if owner is not None and owner != customer_id:
        raise errors.invalid(
            "The provided PaymentMethod is attached to a different Customer than the one given.",
            "payment_method",
        )


def check_attachable(pm: dict[str, Any], customer_id: str | None) -> None:
    """Raise what attaching would answer: consumed, someone else's, or a declining card."""
    if pm.get("_detached"):
        raise errors.invalid(CONSUMED)
    owner = pm.get("customer")
    if owner is not None and owner != customer_id:
        raise errors.invalid(
            "The payment method you provided has already been attached to a customer."
        )
    if owner is None and pm["_card"]["setup"] == cards.DECLINE:
        raise card_error(pm["_card"]["decline_code"])


def attach(standin: Standin, pm: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    """Attach to a customer (declining cards fail here), sending `payment_method.attached`."""
    check_attachable(pm, customer["id"])
    if pm.get("customer") == customer["id"]:
        return pm
    return link(standin, pm, customer["id"])


def link(standin: Standin, pm: dict[str, Any], customer_id: str) -> dict[str, Any]:
    """Record the attachment and send `payment_method.attached` (no checks)."""
    pm = standin.store.save(pm | {"customer": customer_id})
    events.publish(standin, "payment_method.attached", public(pm))
    return pm


def detach(standin: Standin, pm: dict[str, Any]) -> dict[str, Any]:
    """Detach for good; a customer's default pointing at it is cleared (`customer.updated`)."""
    customer_id = pm.get("customer")
    if customer_id is None:
        raise errors.invalid(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible."
        )
    pm = standin.store.save(pm | {"customer": None, "_detached": True})
    events.publish(standin, "payment_method.detached", public(pm), {"customer": customer_id})
    customer = standin.store.get(customer_id, CUSTOMER_KIND)
    if customer and customer["invoice_settings"].get("default_payment_method") == pm["id"]:
        before = public(customer)
        settings = customer["invoice_settings"] | {"default_payment_method": None}
        customer = standin.store.save(customer | {"invoice_settings": settings})
        after = public(customer)
        events.publish(standin, "customer.updated", after, events.changes(before, after))
    return pm
