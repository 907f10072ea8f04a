"""Customers: create, retrieve, update (default payment method included), list, delete."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint

from .. import errors, events, ids, lists, wallet, wire
from ..objects import deleted_stub, public
from ..params import Params
from ..state import Standin, current

bp = Blueprint("customers", __name__)

KIND = "customer"
PM_KIND = "payment_method"
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
INVOICE_SETTINGS = ("custom_fields", "default_payment_method", "footer", "rendering_options")
COMMON = (
    "address",
    "balance",
    "description",
    "email",
    "invoice_prefix",
    "invoice_settings",
    "metadata",
    "name",
    "next_invoice_sequence",
    "phone",
    "preferred_locales",
    "shipping",
    "tax_exempt",
)
UNSUPPORTED = (
    "business_name",
    "cash_balance",
    "default_source",
    "individual_name",
    "source",
    "tax",
    "tax_id_data",
    "test_clock",
    "validate",
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PLAIN = ("description", "name", "phone")


def find(standin: Standin, customer_id: str) -> dict[str, Any] | None:
    """The live (not deleted) customer with this id."""
    doc = standin.store.get(customer_id, KIND)
    return None if doc is None or doc.get("_deleted") else doc


def get_or_raise(standin: Standin, customer_id: str, param: str | None = None) -> dict[str, Any]:
    """The live customer; 404 when named in the URL, 400 when named by `param`."""
    doc = find(standin, customer_id)
    if doc is None:
        if param:
            raise errors.no_such(KIND, customer_id, param=param, status=400)
        raise errors.no_such(KIND, customer_id)
    return doc


def blank_customer(standin: Standin) -> dict[str, Any]:
    """A new customer with Stripe's defaults."""
    return {
        "id": ids.new_id(KIND),
        "object": KIND,
        "address": None,
        "balance": 0,
        "created": standin.clock.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def parse_address(params: Params, key: str, current_value: Any) -> Any:
    """An address hash merged into the current one (an empty string clears it)."""
    nested = params.nested(key, ADDRESS_FIELDS)
    if nested is None:
        return current_value
    if params.is_blank(key):
        return None
    merged = dict(current_value or dict.fromkeys(ADDRESS_FIELDS))
    for field in ADDRESS_FIELDS:
        if nested.has(field):
            merged[field] = nested.string(field)
    return merged


def parse_shipping(params: Params, current_value: Any) -> Any:
    """`shipping[name]`, `shipping[phone]`, `shipping[address][...]`."""
    nested = params.nested("shipping", ("name", "phone", "address"))
    if nested is None:
        return current_value
    if params.is_blank("shipping"):
        return None
    shipping = dict(current_value or {"address": None, "name": None, "phone": None})
    if nested.has("name") or current_value is None:
        shipping["name"] = nested.string("name", required=True)
    if nested.has("phone"):
        shipping["phone"] = nested.string("phone")
    shipping["address"] = parse_address(nested, "address", shipping["address"])
    return shipping


def parse_invoice_settings(
    standin: Standin, params: Params, customer: dict[str, Any]
) -> dict[str, Any]:
    """`invoice_settings[...]`; a default payment method must be attached to this customer."""
    settings = dict(customer["invoice_settings"])
    nested = params.nested("invoice_settings", INVOICE_SETTINGS, ("rendering_options",))
    if nested is None:
        return settings
    if nested.has("footer"):
        settings["footer"] = nested.string("footer")
    if nested.has("custom_fields"):
        settings["custom_fields"] = _custom_fields(nested)
    if nested.has("default_payment_method"):
        settings["default_payment_method"] = _default_payment_method(standin, nested, customer)
    return settings


def _custom_fields(params: Params) -> list[dict[str, str]] | None:
    raw = params.raw("custom_fields")
    if raw == "":
        return None
    if not isinstance(raw, list):
        raise errors.invalid("Invalid array", params.name("custom_fields"))
    fields = []
    for index, item in enumerate(raw):
        field = Params(
            item if isinstance(item, dict) else {},
            ("name", "value"),
            f"{params.name('custom_fields')}[{index}]",
        )
        fields.append(
            {
                "name": field.string("name", required=True),
                "value": field.string("value", required=True),
            }
        )
    return fields


def _default_payment_method(
    standin: Standin, params: Params, customer: dict[str, Any]
) -> str | None:
    pm_id = params.string("default_payment_method")
    if pm_id is None:
        return None
    name = params.name("default_payment_method")
    pm = standin.store.get(pm_id, PM_KIND)
    if pm is None:
        raise errors.no_such(PM_KIND, pm_id, param=name, status=400)
    if pm.get("customer") != customer["id"]:
        raise errors.invalid(
            f"The customer does not have a payment method with the ID {pm_id}. The payment "
            "method must be attached to the customer.",
            name,
            "resource_missing",
        )
    return pm_id


def apply_params(standin: Standin, params: Params, customer: dict[str, Any]) -> dict[str, Any]:
    """The customer with every given parameter applied (nothing is stored)."""
    updated = dict(customer)
    for field in PLAIN:
        if params.has(field):
            updated[field] = params.string(field)
    if params.has("email"):
        email = params.string("email")
        if email is not None and not EMAIL.match(email):
            raise errors.invalid(f"Invalid email address: {email}", "email", "email_invalid")
        updated["email"] = email
    if params.has("invoice_prefix"):
        prefix = params.string("invoice_prefix")
        if prefix is not None and not re.fullmatch(r"[A-Z0-9]{3,12}", prefix):
            raise errors.invalid(
                "Invoice prefix must be 3-12 uppercase letters or numbers.", "invoice_prefix"
            )
        updated["invoice_prefix"] = prefix or customer["invoice_prefix"]
    updated["balance"] = params.integer("balance", customer["balance"])
    updated["next_invoice_sequence"] = params.integer(
        "next_invoice_sequence", customer["next_invoice_sequence"], low=1
    )
    updated["tax_exempt"] = params.choice(
        "tax_exempt", ("none", "exempt", "reverse"), customer["tax_exempt"]
    )
    if params.has("preferred_locales"):
        updated["preferred_locales"] = params.strings("preferred_locales") or []
    updated["address"] = parse_address(params, "address", customer["address"])
    updated["shipping"] = parse_shipping(params, customer["shipping"])
    updated["metadata"] = params.metadata(customer["metadata"])
    updated["invoice_settings"] = parse_invoice_settings(standin, params, customer)
    return updated


def save_changes(standin: Standin, before: dict[str, Any], after: dict[str, Any]) -> dict:
    """Store an updated customer and send `customer.updated` when something changed."""
    standin.store.save(after)
    previous = events.changes(public(before), public(after))
    if previous:
        events.publish(standin, "customer.updated", public(after), previous)
    return after


@bp.post("/customers")
def create():
    standin = current()
    params = wire.params((*COMMON, "payment_method"), UNSUPPORTED)
    customer = apply_params(standin, params, blank_customer(standin))
    pm_id = params.string("payment_method")
    pm = wallet.resolve(standin, pm_id, "payment_method") if pm_id else None
    if pm is not None:
        wallet.check_attachable(pm, None)
    customer = standin.store.insert(KIND, customer)
    events.publish(standin, "customer.created", public(customer))
    if pm is not None:
        wallet.link(standin, pm, customer["id"])
    return wire.respond(public(customer))


@bp.get("/customers/search")
def search():
    raise errors.route_not_in_sandbox("GET", "/v1/customers/search")


@bp.get("/customers/<customer_id>")
def retrieve(customer_id: str):
    wire.params(())
    doc = current().store.get(customer_id, KIND)
    if doc is None:
        raise errors.no_such(KIND, customer_id)
    return wire.respond(public(doc))


@bp.post("/customers/<customer_id>")
def update(customer_id: str):
    standin = current()
    params = wire.params(COMMON, UNSUPPORTED)
    customer = get_or_raise(standin, customer_id)
    updated = apply_params(standin, params, customer)
    return wire.respond(public(save_changes(standin, customer, updated)))


@bp.delete("/customers/<customer_id>")
def delete(customer_id: str):
    standin = current()
    wire.params(())
    customer = get_or_raise(standin, customer_id)
    shown = public(customer)
    for pm in standin.store.all(PM_KIND, lambda d: d.get("customer") == customer_id):
        standin.store.save(pm | {"customer": None, "_detached": True})
    standin.store.save(customer | {"_deleted": True})
    events.publish(standin, "customer.deleted", shown)
    return wire.respond(deleted_stub(customer))


@bp.get("/customers")
def list_customers():
    standin = current()
    params = wire.params((*lists.PAGE_PARAMS, "created", "email"), ("test_clock",))
    email = params.string("email")
    created = lists.created_filter(params)
    items = standin.store.all(
        KIND,
        lambda d: (
            not d.get("_deleted") and created(d) and (email is None or d.get("email") == email)
        ),
    )
    return wire.respond(lists.page(standin, KIND, items, params, "/v1/customers"))
