"""Small typed results of the Stripe adapter: only what Pier shows or decides on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def _when(unix: Any) -> datetime | None:
    return datetime.fromtimestamp(int(unix), UTC) if unix else None


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    try:
        value = obj[name]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


@dataclass(frozen=True)
class Account:
    """The Stripe account the keys belong to."""

    id: str
    name: str | None = None
    livemode: bool = False

    @classmethod
    def from_stripe(cls, obj: Any) -> Account:
        settings = _field(obj, "settings", {})
        dashboard = _field(settings, "dashboard", {})
        profile = _field(obj, "business_profile", {})
        name = _field(dashboard, "display_name") or _field(profile, "name")
        return cls(id=str(obj["id"]), name=name, livemode=bool(_field(obj, "livemode", False)))


@dataclass(frozen=True)
class CardInfo:
    """A card PaymentMethod: brand, last four digits, expiry, funding, country, wallet."""

    id: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    funding: str | None = None
    country: str | None = None
    wallet: str | None = None
    customer: str | None = None
    created: datetime | None = None

    @classmethod
    def from_stripe(cls, obj: Any) -> CardInfo:
        card = _field(obj, "card", {})
        wallet = _field(card, "wallet")
        customer = _field(obj, "customer")
        if not isinstance(customer, str) and customer is not None:
            customer = _field(customer, "id")
        return cls(
            id=str(obj["id"]),
            brand=str(_field(card, "display_brand") or _field(card, "brand") or "card"),
            last4=str(_field(card, "last4", "")),
            exp_month=_field(card, "exp_month"),
            exp_year=_field(card, "exp_year"),
            funding=_field(card, "funding"),
            country=_field(card, "country"),
            wallet=_field(wallet, "type") if wallet else None,
            customer=customer,
            created=_when(_field(obj, "created")),
        )


@dataclass(frozen=True)
class StripeCustomer:
    """A Stripe customer: its id and the card its invoices are charged to."""

    id: str
    default_payment_method: str | None = None
    deleted: bool = False

    @classmethod
    def from_stripe(cls, obj: Any) -> StripeCustomer:
        settings = _field(obj, "invoice_settings", {})
        default = _field(settings, "default_payment_method")
        if default is not None and not isinstance(default, str):
            default = _field(default, "id")
        return cls(
            id=str(obj["id"]),
            default_payment_method=default,
            deleted=bool(_field(obj, "deleted", False)),
        )


@dataclass(frozen=True)
class SetupIntentInfo:
    """A SetupIntent as Pier needs it: status, customer, the card, and why it failed."""

    id: str
    status: str
    customer: str | None
    payment_method: str | None = None
    client_secret: str | None = None
    error_code: str | None = None
    decline_code: str | None = None
    error_message: str | None = None
    next_action_url: str | None = None
    created: datetime | None = None

    @classmethod
    def from_stripe(cls, obj: Any) -> SetupIntentInfo:
        error = _field(obj, "last_setup_error", {})
        method = _field(obj, "payment_method")
        if method is not None and not isinstance(method, str):
            method = _field(method, "id")
        action = _field(obj, "next_action", {})
        redirect = _field(action, "redirect_to_url", {})
        sdk = _field(action, "use_stripe_sdk", {})
        return cls(
            id=str(obj["id"]),
            status=str(obj["status"]),
            customer=_field(obj, "customer"),
            payment_method=method,
            client_secret=_field(obj, "client_secret"),
            error_code=_field(error, "code"),
            decline_code=_field(error, "decline_code"),
            error_message=_field(error, "message"),
            next_action_url=_field(redirect, "url") or _field(sdk, "stripe_js"),
            created=_when(_field(obj, "created")),
        )
