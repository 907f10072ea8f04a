"""Customers: upsert by external_id, get, list with filters, delete."""

from __future__ import annotations

import re
import secrets
import zoneinfo
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..spec import schema_enum
from ..state import Standin, current
from ..store import new_id
from . import Problems, blank, payment_methods, register_object, require, valid_email_list

bp = Blueprint("customers", __name__)

KIND = "customer"
PAYMENT_PROVIDERS = ("stripe", "gocardless", "cashfree", "adyen", "flutterwave", "moneyhash")
FINALIZE_OPTIONS = ("inherit", "skip", "finalize")
METADATA_LIMIT = 5
PLAIN_FIELDS = (
    "name",
    "firstname",
    "lastname",
    "customer_type",
    "address_line1",
    "address_line2",
    "state",
    "zipcode",
    "city",
    "url",
    "phone",
    "logo_url",
    "legal_name",
    "legal_number",
    "net_payment_term",
    "external_salesforce_id",
    "tax_identification_number",
)
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "zipcode", "state", "country")
INVISIBLE_CHARS = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")


def find(standin: Standin, external_id: str) -> dict[str, Any] | None:
    """The live customer with this external id."""
    return standin.store.find(KIND, external_id)


def get_or_404(standin: Standin, external_id: str) -> dict[str, Any]:
    """The live customer with this external id, or 404 customer_not_found."""
    customer = find(standin, external_id)
    if customer is None:
        raise errors.not_found("customer")
    return customer


def serialize(
    standin: Standin, customer: dict[str, Any], *, with_sections: bool = False
) -> dict[str, Any]:
    """A customer as V1::CustomerSerializer renders it, with taxes and integration customers."""
    org = standin.org()
    data = {
        "lago_id": customer["id"],
        "billing_entity_code": customer.get("billing_entity_code") or org["billing_entity_code"],
        "external_id": customer["external_id"],
        "account_type": customer.get("account_type", "customer"),
        "name": customer.get("name"),
        "firstname": customer.get("firstname"),
        "lastname": customer.get("lastname"),
        "customer_type": customer.get("customer_type"),
        "sequential_id": customer["sequential_id"],
        "slug": customer["slug"],
        "created_at": customer["created_at"],
        "updated_at": customer["updated_at"],
        "country": customer.get("country"),
        "address_line1": customer.get("address_line1"),
        "address_line2": customer.get("address_line2"),
        "state": customer.get("state"),
        "zipcode": customer.get("zipcode"),
        "email": customer.get("email"),
        "city": customer.get("city"),
        "url": customer.get("url"),
        "phone": customer.get("phone"),
        "logo_url": customer.get("logo_url"),
        "legal_name": customer.get("legal_name"),
        "legal_number": customer.get("legal_number"),
        "currency": customer.get("currency"),
        "tax_identification_number": customer.get("tax_identification_number"),
        "timezone": customer.get("timezone"),
        "applicable_timezone": customer.get("timezone") or org["timezone"],
        "net_payment_term": customer.get("net_payment_term"),
        "external_salesforce_id": customer.get("external_salesforce_id"),
        "finalize_zero_amount_invoice": customer.get("finalize_zero_amount_invoice", "inherit"),
        "billing_configuration": _billing_configuration(customer),
        "shipping_address": {k: customer["shipping_address"].get(k) for k in ADDRESS_FIELDS},
        "skip_invoice_custom_sections": customer.get("skip_invoice_custom_sections", False),
        "metadata": [
            {
                "lago_id": m["id"],
                "key": m["key"],
                "value": m["value"],
                "display_in_invoice": m["display_in_invoice"],
                "created_at": m["created_at"],
            }
            for m in customer.get("metadata", [])
        ],
        "taxes": [],
        "integration_customers": list(customer.get("integration_customers", [])),
    }
    if with_sections:
        data["applicable_invoice_custom_sections"] = []
    return data


def _billing_configuration(customer: dict[str, Any]) -> dict[str, Any]:
    provider = customer.get("payment_provider")
    config: dict[str, Any] = {
        "invoice_grace_period": customer.get("invoice_grace_period"),
        "payment_provider": provider,
        "payment_provider_code": customer.get("payment_provider_code"),
        "document_locale": customer.get("document_locale"),
    }
    provider_customer = (customer.get("provider_customers") or {}).get(provider or "")
    if provider in ("stripe", "gocardless", "cashfree", "adyen", "moneyhash"):
        config["provider_customer_id"] = (provider_customer or {}).get("provider_customer_id")
        if provider == "stripe":
            config["provider_payment_methods"] = (provider_customer or {}).get(
                "provider_payment_methods"
            )
        config.update((provider_customer or {}).get("settings", {}))
    return config


@register_object("customer")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    customer = find(standin, identifier) or standin.store.get(KIND, identifier)
    return serialize(standin, customer) if customer else None


def upsert(standin: Standin, params: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or update a customer by external_id, changing only the keys present."""
    org = standin.org()
    external_id = params.get("external_id")
    if blank(external_id):
        raise errors.single_validation_error("value_is_mandatory", "external_id")
    code = params.get("billing_entity_code")
    if code and code != org["billing_entity_code"]:
        raise errors.not_found("billing_entity")
    existing = find(standin, external_id)
    metadata = params.get("metadata")
    if metadata and len(metadata) > METADATA_LIMIT:
        raise errors.single_validation_error("invalid_count", "metadata")
    finalize = params.get("finalize_zero_amount_invoice")
    if finalize is not None and finalize not in FINALIZE_OPTIONS:
        raise errors.single_validation_error("invalid_value", "finalize_zero_amount_invoice")
    integration_types = [
        i.get("integration_type") for i in params.get("integration_customers") or []
    ]
    if len(integration_types) != len(set(integration_types)):
        raise errors.single_validation_error(
            "invalid_count_per_integration_type", "integration_customers"
        )
    store = standin.store
    with store.transaction():
        customer = existing or _new_customer(org, external_id)
        _assign(standin, customer, params)
        _apply_metadata(standin, customer, metadata, new=existing is None)
        if existing is None:
            customer["sequential_id"] = store.next_value("customer_sequential_id")
            customer["slug"] = f"{org['document_number_prefix']}-{customer['sequential_id']:03d}"
            customer = store.insert(KIND, customer, key=external_id)
        else:
            customer = store.save(KIND, customer, key=external_id)
    # As in lago-api, the customer is already saved when the provider settings fail (422).
    customer, provider_outcome = _apply_billing(standin, customer, params, existing is None)
    customer = store.save(KIND, customer, key=external_id, touch=False)
    serialized = serialize(standin, customer)
    standin.webhooks.emit(
        "customer.created" if existing is None else "customer.updated", serialized
    )
    if provider_outcome == "linked":
        payment_methods.ensure_default(standin, customer)
    if provider_outcome == "created":
        # PaymentProviderCustomers::StripeService#create: the new Stripe customer has no card;
        # a Checkout setup session lets the customer add one.
        standin.webhooks.emit("customer.payment_provider_created", serialized)
        standin.webhooks.emit("customer.checkout_url_generated", checkout_object(standin, customer))
    elif provider_outcome is not None and provider_outcome.startswith("failed:"):
        error = provider_outcome.removeprefix("failed:")
        standin.webhooks.emit(
            "customer.payment_provider_error", provider_error_object(customer, error)
        )
    return customer, existing is None


def provider_error_object(
    customer: dict[str, Any], message: str, code: str = "customer_creation_failed"
) -> dict[str, Any]:
    """The `payment_provider_customer_error` object (customer.payment_provider_error)."""
    return {
        "lago_customer_id": customer["id"],
        "external_customer_id": customer["external_id"],
        "payment_provider": customer.get("payment_provider") or "stripe",
        "payment_provider_code": customer.get("payment_provider_code") or "stripe",
        "provider_error": {"message": message, "error_code": code},
    }


def checkout_object(standin: Standin, customer: dict[str, Any]) -> dict[str, Any]:
    """The `payment_provider_customer_checkout_url` object (customer.checkout_url_generated),
    as V1::PaymentProviders::CustomerCheckoutSerializer renders it; the URL is the pretend
    provider's page where the customer adds a card."""
    base = (standin.config.public_url or "http://localhost:3000").rstrip("/")
    return {
        "lago_customer_id": customer["id"],
        "external_customer_id": customer["external_id"],
        "payment_provider": customer.get("payment_provider"),
        "payment_provider_code": customer.get("payment_provider_code"),
        "checkout_url": f"{base}/_sandbox/setup/{customer['external_id']}",
    }


def provider_connection(standin: Standin, customer: dict[str, Any]) -> dict[str, Any] | None:
    """The organization's payment provider connection the customer uses, if it still exists."""
    provider = customer.get("payment_provider")
    code = customer.get("payment_provider_code")
    return next(
        (
            p
            for p in standin.org()["payment_providers"]
            if p["type"] == provider and (code is None or p["code"] == code)
        ),
        None,
    )


def create_bare(standin: Standin, external_id: str) -> dict[str, Any]:
    """A customer with only an external id, as `POST /subscriptions` creates (no webhook)."""
    org = standin.org()
    store = standin.store
    with store.transaction():
        customer = _new_customer(org, external_id)
        customer["sequential_id"] = store.next_value("customer_sequential_id")
        customer["slug"] = f"{org['document_number_prefix']}-{customer['sequential_id']:03d}"
        return store.insert(KIND, customer, key=external_id)


def get_by_id(standin: Standin, lago_id: str) -> dict[str, Any]:
    """A customer by lago id, deleted ones included (objects keep pointing at them)."""
    customer = standin.store.get(KIND, lago_id, include_deleted=True)
    if customer is None:
        raise errors.not_found("customer")
    return customer


def timezone_of(standin: Standin, customer: dict[str, Any]) -> str:
    """The customer's applicable time zone (its own needs a premium licence)."""
    return customer.get("timezone") or standin.org()["timezone"]


def provider_customer_id(customer: dict[str, Any]) -> str | None:
    """The id of the customer at its payment provider, when it has one."""
    return (_provider_customer(customer) or {}).get("provider_customer_id")


def _new_customer(org: dict[str, Any], external_id: str) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "billing_entity_code": org["billing_entity_code"],
        "account_type": "customer",
        "finalize_zero_amount_invoice": "inherit",
        "skip_invoice_custom_sections": False,
        "shipping_address": dict.fromkeys(ADDRESS_FIELDS),
        "metadata": [],
        "integration_customers": [],
        "provider_customers": {},
        "invoice_grace_period": None,
        "document_locale": None,
        "payment_provider": None,
        "payment_provider_code": None,
        "timezone": None,
        "currency": None,
    }


def _assign(standin: Standin, customer: dict[str, Any], params: dict[str, Any]) -> None:
    problems = Problems()
    for name in PLAIN_FIELDS:
        if name in params:
            customer[name] = params[name]
    if "email" in params:
        email = params["email"]
        customer["email"] = INVISIBLE_CHARS.sub("", email) if isinstance(email, str) else email
        if customer["email"] and not valid_email_list(customer["email"]):
            problems.add("email", "invalid_email_format")
    if "country" in params:
        customer["country"] = _country(params["country"], "country", problems)
    shipping = params.get("shipping_address") or {}
    for name in ADDRESS_FIELDS:
        if name in shipping:
            value = shipping[name]
            if name == "country":
                value = _country(value, "shipping_country", problems)
            customer["shipping_address"][name] = value
    if "finalize_zero_amount_invoice" in params:
        customer["finalize_zero_amount_invoice"] = (
            params["finalize_zero_amount_invoice"] or "inherit"
        )
    if "skip_invoice_custom_sections" in params:
        customer["skip_invoice_custom_sections"] = bool(params["skip_invoice_custom_sections"])
    if customer.get("customer_type") not in (None, "company", "individual"):
        problems.add("customer_type", "value_is_invalid")
    if "currency" in params:
        currency = params["currency"]
        if currency is not None and currency not in schema_enum("Currency"):
            problems.add("currency", "value_is_invalid")
        customer["currency"] = currency
    if standin.config.premium and "timezone" in params:
        timezone = params["timezone"]
        if timezone is not None and timezone not in zoneinfo.available_timezones():
            problems.add("timezone", "invalid_timezone")
        customer["timezone"] = timezone
    if "integration_customers" in params:
        customer["integration_customers"] = _integration_customers(params)
    problems.raise_if_any()
    for code in params.get("tax_codes") or []:
        if standin.store.find("tax", code) is None:
            raise errors.not_found("tax")
    for code in params.get("invoice_custom_section_codes") or []:
        if standin.store.find("invoice_custom_section", code) is None:
            raise errors.not_found("invoice_custom_section")


def _country(value: Any, field: str, problems: Problems) -> Any:
    if value is None:
        return None
    value = str(value).upper()
    if value not in schema_enum("Country"):
        problems.add(field, "not_a_valid_country_code")
    return value


def _integration_customers(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "lago_id": item.get("id") or new_id(),
            "type": item.get("integration_type"),
            "integration_code": item.get("integration_code"),
            "external_customer_id": item.get("external_customer_id"),
            "sync_with_provider": item.get("sync_with_provider"),
            "subsidiary_id": item.get("subsidiary_id"),
            "targeted_object": item.get("targeted_object"),
        }
        for item in params["integration_customers"]
    ]


def _apply_metadata(
    standin: Standin, customer: dict[str, Any], metadata: list | None, *, new: bool
) -> None:
    if metadata is None:
        return
    now = standin.clock.now_iso()
    if new:
        customer["metadata"] = [_metadata_item(m, now) for m in metadata]
        return
    by_id = {m["id"]: m for m in customer.get("metadata", [])}
    kept = []
    for item in metadata:
        current_item = by_id.get(item.get("id") or "")
        if current_item is not None:
            current_item.update(
                key=item.get("key"),
                value=item.get("value"),
                display_in_invoice=item.get("display_in_invoice") or False,
            )
            kept.append(current_item)
        else:
            kept.append(_metadata_item(item, now))
    customer["metadata"] = kept


def _metadata_item(item: dict[str, Any], now: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "key": item.get("key"),
        "value": item.get("value"),
        "display_in_invoice": item.get("display_in_invoice") or False,
        "created_at": now,
    }


def _apply_billing(
    standin: Standin, customer: dict[str, Any], params: dict[str, Any], new: bool
) -> tuple[dict[str, Any], str | None]:
    """Provider settings, as in UpsertFromApiService#handle_api_billing_configuration."""
    billing = params.get("billing_configuration") or {}
    if standin.config.premium and "invoice_grace_period" in billing:
        customer["invoice_grace_period"] = billing["invoice_grace_period"]
    if "document_locale" in billing:
        customer["document_locale"] = billing["document_locale"]
    provider_customer = _provider_customer(customer)
    wants_provider = billing.get("sync_with_provider") or not blank(
        billing.get("provider_customer_id")
    )
    if new or (wants_provider and not (provider_customer or {}).get("provider_customer_id")):
        if blank(billing) or billing.get("payment_provider") is None or not wants_provider:
            return customer, None
        customer["payment_provider"] = billing["payment_provider"]
        customer["payment_provider_code"] = _find_provider_code(
            standin, billing["payment_provider"], billing.get("payment_provider_code")
        )
        return customer, _upsert_provider_customer(standin, customer, billing)
    if "payment_provider" in billing:
        provider = billing["payment_provider"]
        customer["payment_provider"] = provider if provider in PAYMENT_PROVIDERS else None
        if provider in PAYMENT_PROVIDERS and "payment_provider_code" in billing:
            customer["payment_provider_code"] = billing["payment_provider_code"]
    if customer.get("payment_provider") is None:
        return customer, None
    if not blank(billing.get("provider_customer_id")) or (_provider_customer(customer) or {}).get(
        "provider_customer_id"
    ):
        return customer, _upsert_provider_customer(standin, customer, billing)
    return customer, None


def _provider_customer(customer: dict[str, Any]) -> dict[str, Any] | None:
    return (customer.get("provider_customers") or {}).get(customer.get("payment_provider") or "")


def _find_provider_code(standin: Standin, provider_type: str, code: str | None) -> str:
    """PaymentProviders::FindService: failures are rendered as 422 on `base`."""
    candidates = [p for p in standin.org()["payment_providers"] if p["type"] == provider_type]
    if not code and len(candidates) > 1:
        raise errors.single_validation_error("payment_provider_code_missing")
    if code:
        candidates = [p for p in candidates if p["code"] == code]
    if not candidates:
        raise errors.single_validation_error("payment_provider_not_found")
    return candidates[0]["code"]


def _upsert_provider_customer(
    standin: Standin, customer: dict[str, Any], billing: dict[str, Any]
) -> str | None:
    """Store the provider customer; returns "linked", "created" (at the pretend provider),
    "failed:<why>" or None (nothing new)."""
    provider = customer["payment_provider"]
    providers = customer.setdefault("provider_customers", {})
    record = providers.setdefault(provider, {"provider_customer_id": None, "settings": {}})
    outcome = None
    if not blank(billing.get("provider_customer_id")):
        outcome = None if record["provider_customer_id"] else "linked"
        record["provider_customer_id"] = billing["provider_customer_id"]
    elif billing.get("sync_with_provider") and not record["provider_customer_id"]:
        error = standin.payment_knobs.take_provider_customer_error(customer["external_id"])
        if error is not None:
            outcome = "failed:" + error
        else:
            prefix = "cus_" if provider == "stripe" else f"{provider}_"
            record["provider_customer_id"] = prefix + "sandbox" + secrets.token_hex(7)
            outcome = "created"
    if "sync_with_provider" in billing:
        record["settings"]["sync_with_provider"] = bool(billing["sync_with_provider"])
    if provider == "stripe":
        methods = billing.get("provider_payment_methods")
        record["provider_payment_methods"] = (
            methods or record.get("provider_payment_methods") or ["card"]
        )
    return outcome


def _filtered(standin: Standin) -> list[dict[str, Any]]:
    args = request.args
    org = standin.org()
    codes = args.getlist("billing_entity_codes[]")
    if codes and any(code != org["billing_entity_code"] for code in codes):
        raise errors.not_found("billing_entity")
    customers = standin.store.all(KIND)
    term = (args.get("search_term") or "").strip().lower()
    if term:
        fields = ("name", "firstname", "lastname", "legal_name", "external_id", "email")
        customers = [
            c for c in customers if any(term in str(c.get(f) or "").lower() for f in fields)
        ]
    for arg, field in (
        ("currencies[]", "currency"),
        ("countries[]", "country"),
        ("states[]", "state"),
        ("zipcodes[]", "zipcode"),
        ("account_type[]", "account_type"),
    ):
        wanted = args.getlist(arg)
        if wanted:
            customers = [c for c in customers if c.get(field) in wanted]
    if args.get("customer_type"):
        customers = [c for c in customers if c.get("customer_type") == args["customer_type"]]
    for arg, field in (
        ("has_tax_identification_number", "tax_identification_number"),
        ("has_customer_type", "customer_type"),
    ):
        if args.get(arg) in ("true", "false"):
            want = args[arg] == "true"
            customers = [c for c in customers if (not blank(c.get(field))) == want]
    for name, value in args.items():
        match = re.fullmatch(r"metadata\[(.+)\]", name)
        if match:
            customers = [c for c in customers if _metadata_matches(c, match.group(1), value)]
    return customers


def _metadata_matches(customer: dict[str, Any], key: str, value: str) -> bool:
    values = [m["value"] for m in customer.get("metadata", []) if m["key"] == key]
    return not values if value == "" else value in values


@bp.post("/customers")
def create_customer():
    standin = current()
    customer, _ = upsert(standin, require("customer"))
    return jsonify(customer=serialize(standin, customer, with_sections=True))


@bp.get("/customers")
def list_customers():
    standin = current()
    customers = _filtered(standin)
    return jsonify(
        pagination.collection("customers", customers, lambda c: serialize(standin, c), request.args)
    )


@bp.get("/customers/<external_customer_id>")
def get_customer(external_customer_id: str):
    standin = current()
    customer = get_or_404(standin, external_customer_id)
    return jsonify(customer=serialize(standin, customer, with_sections=True))


@bp.post("/customers/<external_customer_id>/checkout_url")
def checkout_url(external_customer_id: str):
    """Customers::GenerateCheckoutUrlService: a new setup link, without a webhook."""
    standin = current()
    customer = get_or_404(standin, external_customer_id)
    if _provider_customer(customer) is None:
        raise errors.single_validation_error("no_linked_payment_provider")
    return jsonify(customer=checkout_object(standin, customer))


@register_object("payment_provider_customer_checkout_url")
def _find_checkout(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    customer = find(standin, identifier) or standin.store.get(KIND, identifier)
    return checkout_object(standin, customer) if customer else None


@bp.delete("/customers/<external_customer_id>")
def delete_customer(external_customer_id: str):
    standin = current()
    customer = get_or_404(standin, external_customer_id)
    customer = standin.store.soft_delete(KIND, customer)
    return jsonify(customer=serialize(standin, customer, with_sections=True))
