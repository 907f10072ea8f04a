"""SetupIntents: create, retrieve, update, list, confirm, cancel (version-aware parameters)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from .. import errors, events, lists, setup_flow, wallet, wire
from ..auth import publishable
from ..objects import public
from ..params import Params
from ..state import Standin, current
from . import customers

bp = Blueprint("setup_intents", __name__)

KIND = setup_flow.KIND
# API versions that changed which parameters exist (see the stand-in's README).
AUTOMATIC_BY_DEFAULT_SINCE = "2023-08-16"
ALLOWED_TYPES_SINCE = "2026-07-29"
TYPES_REMOVED_SINCE = "2026-09-30"
CREATE = (
    "allowed_payment_method_types",
    "automatic_payment_methods",
    "confirm",
    "customer",
    "description",
    "excluded_payment_method_types",
    "metadata",
    "payment_method",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "return_url",
    "usage",
    "use_stripe_sdk",
)
CREATE_UNSUPPORTED = (
    "attach_to_self",
    "confirmation_token",
    "customer_account",
    "flow_directions",
    "mandate_data",
    "on_behalf_of",
    "payment_method_configuration",
    "single_use",
)
UPDATE = (
    "customer",
    "description",
    "metadata",
    "payment_method",
    "payment_method_data",
    "payment_method_options",
)
CONFIRM = (
    "payment_method",
    "payment_method_data",
    "payment_method_options",
    "return_url",
    "use_stripe_sdk",
    "client_secret",
)
CONFIRM_UNSUPPORTED = ("allowed_payment_method_types", "confirmation_token", "mandate_data")
CARD_OPTIONS = ("request_three_d_secure", "network")
OTHER_OPTIONS = (
    "acss_debit",
    "amazon_pay",
    "bacs_debit",
    "card_present",
    "klarna",
    "link",
    "paypal",
    "payto",
    "sepa_debit",
    "us_bank_account",
)
PM_DATA_EXTRA = ("billing_details", "metadata", "allow_redisplay")
CANCEL_REASONS = ("abandoned", "duplicate", "requested_by_customer")


def get_or_404(standin: Standin, intent_id: str) -> dict[str, Any]:
    """The SetupIntent named in the URL, or 404."""
    intent = standin.store.get(intent_id, KIND)
    if intent is None:
        raise errors.no_such(KIND, intent_id)
    return intent


def check_client_secret(params: Params, intent: dict[str, Any]) -> None:
    """With the publishable key the client secret is required; when given it must match."""
    secret = params.string("client_secret")
    if secret is None and g.key_kind == "publishable":
        raise errors.missing_param("client_secret")
    if secret is not None and secret != intent["client_secret"]:
        raise errors.invalid(
            "The client_secret provided does not match the client_secret associated with the "
            "SetupIntent.",
            "client_secret",
        )


def apply_types(params: Params, intent: dict[str, Any]) -> None:
    """Decide `payment_method_types` / `automatic_payment_methods` as the API version allows."""
    listed = params.strings("payment_method_types")
    allowed = params.strings("allowed_payment_method_types")
    excluded = params.strings("excluded_payment_method_types")
    automatic = params.nested("automatic_payment_methods", ("enabled", "allow_redirects"))
    if listed is not None and wire.version_at_least(TYPES_REMOVED_SINCE):
        raise errors.invalid(
            "The `payment_method_types` parameter is no longer supported on this API version "
            f"({g.api_version}). Use `allowed_payment_method_types` or dynamic payment methods "
            "instead.",
            "payment_method_types",
            "payment_method_types_no_longer_supported",
        )
    if allowed is not None and not wire.version_at_least(ALLOWED_TYPES_SINCE):
        raise errors.unknown_param("allowed_payment_method_types")
    if allowed is not None:
        others = [
            name
            for name, value in (
                ("payment_method_types", listed),
                ("excluded_payment_method_types", excluded),
                ("automatic_payment_methods", automatic),
            )
            if value is not None
        ]
        if others:
            raise errors.exclusive("allowed_payment_method_types", *others)
        intent["allowed_payment_method_types"] = allowed
        types = [t for t in allowed if t == "card"]
    elif listed is not None:
        if automatic is not None:
            raise errors.exclusive("automatic_payment_methods", "payment_method_types")
        unsupported = [t for t in listed if t != "card"]
        if unsupported:
            raise errors.not_in_sandbox(f"payment_method_types[]={unsupported[0]}")
        types = listed
    else:
        types = _automatic(intent, automatic, excluded)
    if not types:
        raise errors.invalid(
            "None of the requested payment method types can be used with this SetupIntent "
            "(the stand-in offers cards only).",
            "allowed_payment_method_types" if allowed is not None else "payment_method_types",
        )
    intent["payment_method_types"] = types


def _automatic(intent: dict[str, Any], automatic: Params | None, excluded: list | None) -> list:
    """Dynamic payment methods: on by default since 2023-08-16, redirects allowed by default."""
    if automatic is None:
        enabled = wire.version_at_least(AUTOMATIC_BY_DEFAULT_SINCE)
        redirects = "always"
    else:
        enabled = bool(automatic.boolean("enabled", True))
        redirects = automatic.choice("allow_redirects", ("always", "never"), "always")
    if enabled:
        intent["automatic_payment_methods"] = {"allow_redirects": redirects, "enabled": True}
    if excluded is not None:
        intent["excluded_payment_method_types"] = excluded
    return [] if excluded and "card" in excluded else ["card"]


def apply_options(params: Params, intent: dict[str, Any]) -> None:
    """`payment_method_options[card][request_three_d_secure|network]`."""
    options = params.nested("payment_method_options", ("card",), OTHER_OPTIONS)
    card = options.nested("card", CARD_OPTIONS, ("mandate_options", "moto")) if options else None
    if card is None:
        return
    current_card = dict(intent["payment_method_options"]["card"])
    current_card["request_three_d_secure"] = card.choice(
        "request_three_d_secure",
        ("any", "automatic", "challenge"),
        current_card["request_three_d_secure"],
    )
    if card.has("network"):
        current_card["network"] = card.string("network")
    intent["payment_method_options"] = {"card": current_card}


def payment_method_from(standin: Standin, params: Params) -> dict[str, Any] | None:
    """The PaymentMethod given as `payment_method` (id or test token) or `payment_method_data`."""
    pm_id = params.string("payment_method")
    data = params.nested("payment_method_data", ("type", "card", *PM_DATA_EXTRA))
    if pm_id is not None and data is not None:
        raise errors.exclusive("payment_method", "payment_method_data")
    if pm_id is not None:
        return wallet.resolve(standin, pm_id, "payment_method")
    if data is not None:
        return wallet.create(standin, data)
    return None


@bp.post("/setup_intents")
def create():
    standin = current()
    params = wire.params(CREATE, CREATE_UNSUPPORTED)
    customer_id = params.string("customer")
    if customer_id is not None:
        customers.get_or_raise(standin, customer_id, param="customer")
    intent = setup_flow.new_intent(standin, customer_id)
    apply_types(params, intent)
    apply_options(params, intent)
    intent["usage"] = params.choice("usage", ("off_session", "on_session"), "off_session")
    intent["description"] = params.string("description")
    intent["metadata"] = params.metadata()
    confirm_now = params.boolean("confirm", False)
    return_url = params.string("return_url")
    use_sdk = bool(params.boolean("use_stripe_sdk", False))
    pm = payment_method_from(standin, params)
    if pm is not None:
        wallet.check_usable(pm, customer_id)
        intent["payment_method"] = pm["id"]
        intent["status"] = "requires_confirmation"
    intent = standin.store.insert(KIND, intent)
    events.publish(standin, "setup_intent.created", public(intent))
    if confirm_now:
        intent = setup_flow.confirm(
            standin, intent, pm, return_url=return_url, use_stripe_sdk=use_sdk
        )
    return wire.respond(public(intent))


@bp.get("/setup_intents/<intent_id>")
@publishable
def retrieve(intent_id: str):
    params = wire.params(("client_secret",))
    intent = get_or_404(current(), intent_id)
    check_client_secret(params, intent)
    return wire.respond(public(intent))


@bp.post("/setup_intents/<intent_id>")
def update(intent_id: str):
    standin = current()
    params = wire.params(
        UPDATE,
        CREATE_UNSUPPORTED + ("allowed_payment_method_types", "excluded_payment_method_types"),
    )
    intent = dict(get_or_404(standin, intent_id))
    customer_id = params.string("customer")
    if customer_id is not None and customer_id != intent["customer"]:
        if intent["customer"] is not None:
            raise errors.invalid("You cannot change the customer of a SetupIntent.", "customer")
        customers.get_or_raise(standin, customer_id, param="customer")
        intent["customer"] = customer_id
    if params.has("description"):
        intent["description"] = params.string("description")
    intent["metadata"] = params.metadata(intent["metadata"])
    apply_options(params, intent)
    pm = payment_method_from(standin, params)
    if pm is not None:
        if intent["status"] not in setup_flow.OPEN:
            raise errors.unexpected_state(
                "You cannot update this SetupIntent's payment method because it has a status of "
                f"{intent['status']}."
            )
        wallet.check_usable(pm, intent["customer"])
        intent |= {"payment_method": pm["id"], "status": "requires_confirmation"}
    return wire.respond(public(standin.store.save(intent)))


@bp.post("/setup_intents/<intent_id>/confirm")
@publishable
def confirm(intent_id: str):
    standin = current()
    params = wire.params(CONFIRM, CONFIRM_UNSUPPORTED)
    intent = get_or_404(standin, intent_id)
    check_client_secret(params, intent)
    apply_options(params, intent)
    pm = payment_method_from(standin, params)
    intent = setup_flow.confirm(
        standin,
        intent,
        pm,
        return_url=params.string("return_url"),
        use_stripe_sdk=bool(params.boolean("use_stripe_sdk", False)),
    )
    return wire.respond(public(intent))


@bp.post("/setup_intents/<intent_id>/cancel")
def cancel(intent_id: str):
    standin = current()
    params = wire.params(("cancellation_reason",))
    intent = get_or_404(standin, intent_id)
    reason = params.choice("cancellation_reason", CANCEL_REASONS)
    return wire.respond(public(setup_flow.cancel(standin, intent, reason)))


@bp.get("/setup_intents")
def list_setup_intents():
    standin = current()
    params = wire.params(
        (*lists.PAGE_PARAMS, "created", "customer", "payment_method"),
        ("attach_to_self", "customer_account"),
    )
    customer_id = params.string("customer")
    pm_id = params.string("payment_method")
    created = lists.created_filter(params)
    items = standin.store.all(
        KIND,
        lambda d: (
            created(d)
            and (customer_id is None or d["customer"] == customer_id)
            and (pm_id is None or d["payment_method"] == pm_id)
        ),
    )
    return wire.respond(lists.page(standin, KIND, items, params, "/v1/setup_intents"))
