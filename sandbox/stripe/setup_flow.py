"""What happens to a SetupIntent: confirm, 3-D Secure, success, failure, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from . import cards, errors, events, ids, wallet
from .objects import public

if TYPE_CHECKING:
    from .state import Standin

KIND = "setup_intent"
OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")
AUTH_FAILED = "setup_intent_authentication_failure"
AUTH_FAILED_MESSAGE = (
    "The latest attempt to set up the payment method has failed because authentication failed."
)
REDIRECT_NEEDED = (
    "This SetupIntent is configured to accept payment methods enabled in your Dashboard, some of "
    "which may require a full page redirect to succeed. If you do not want to accept "
    "redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and "
    "Payment Intents. If you do want to accept redirect-based payment methods, set the "
    "`return_url` parameter when confirming a Setup Intent or Payment Intent."
)
CHALLENGE_PATH = "/redirect/authenticate/"


def new_intent(standin: Standin, customer_id: str | None) -> dict[str, Any]:
    """A SetupIntent with Stripe's defaults (cards only, off-session, no payment method yet)."""
    intent_id = ids.new_id(KIND)
    return {
        "id": intent_id,
        "object": KIND,
        "allowed_payment_method_types": None,
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": ids.client_secret(intent_id),
        "created": standin.clock.now(),
        "customer": customer_id,
        "description": None,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": "off_session",
    }


def challenge_url(standin: Standin, intent: dict[str, Any]) -> str:
    """The stand-in's hosted 3-D Secure page for an intent."""
    query = urlencode({"client_secret": intent["client_secret"]})
    return f"{standin.base_url()}{CHALLENGE_PATH}{intent['id']}?{query}"


def next_action(standin: Standin, intent: dict, return_url: str | None, sdk: bool) -> dict:
    """`redirect_to_url` when a return URL is given (and not `use_stripe_sdk`), else Stripe.js's."""
    url = challenge_url(standin, intent)
    if return_url and not sdk:
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {"return_url": return_url, "url": url},
        }
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": url,
            "source": intent["id"],
        },
    }


def confirm(
    standin: Standin,
    intent: dict[str, Any],
    pm: dict[str, Any] | None,
    *,
    return_url: str | None = None,
    use_stripe_sdk: bool = False,
) -> dict[str, Any]:
    """Confirm with a PaymentMethod; a decline is stored, announced, then raised as a 402."""
    if intent["status"] not in OPEN:
        raise errors.unexpected_state(
            f"You cannot confirm this SetupIntent because it has a status of {intent['status']}.",
            setup_intent=public(intent),
        )
    if pm is None and intent["payment_method"]:
        pm = standin.store.get(intent["payment_method"], wallet.KIND)
    if pm is None:
        raise errors.unexpected_state(
            "You cannot confirm this SetupIntent because it's missing a payment method. Update "
            "the SetupIntent with a payment method and then confirm it again, or confirm it "
            "again directly with a payment method.",
            setup_intent=public(intent),
        )
    wallet.check_usable(pm, intent["customer"])
    automatic = intent["automatic_payment_methods"] or {}
    if automatic.get("allow_redirects") == "always" and not return_url:
        raise errors.invalid(REDIRECT_NEEDED, "return_url")
    intent = intent | {
        "payment_method": pm["id"],
        "last_setup_error": None,
        "_return_url": return_url,
        "_use_stripe_sdk": use_stripe_sdk,
    }
    card = pm["_card"]
    if card["setup"] == cards.DECLINE:
        intent = fail(standin, intent, pm, wallet.card_error(card["decline_code"]).error)
        raise wallet.card_error(
            card["decline_code"], payment_method=public(pm), setup_intent=public(intent)
        )
    wants_3ds = intent["payment_method_options"]["card"]["request_three_d_secure"]
    if card["setup"] == cards.AUTHENTICATE or wants_3ds in ("any", "challenge"):
        intent["status"] = "requires_action"
        intent["next_action"] = next_action(standin, intent, return_url, use_stripe_sdk)
        intent = standin.store.save(intent)
        events.publish(standin, "setup_intent.requires_action", public(intent))
        return intent
    return succeed(standin, intent, pm)


def succeed(standin: Standin, intent: dict[str, Any], pm: dict[str, Any]) -> dict[str, Any]:
    """Attach the PaymentMethod to the intent's customer and mark the intent succeeded."""
    if intent["customer"] and pm.get("customer") is None:
        wallet.link(standin, pm, intent["customer"])
    intent = intent | {"status": "succeeded", "next_action": None, "payment_method": pm["id"]}
    standin.store.save(intent)
    events.publish(standin, "setup_intent.succeeded", public(intent))
    return intent


def fail(
    standin: Standin, intent: dict[str, Any], pm: dict[str, Any], error: dict[str, Any]
) -> dict[str, Any]:
    """Back to `requires_payment_method` with `last_setup_error`; `setup_intent.setup_failed`."""
    last_error = {k: v for k, v in error.items() if k not in ("setup_intent",)}
    last_error["payment_method"] = public(pm)
    intent = intent | {
        "status": "requires_payment_method",
        "next_action": None,
        "payment_method": None,
        "last_setup_error": last_error,
    }
    standin.store.save(intent)
    events.publish(standin, "setup_intent.setup_failed", public(intent))
    return intent


def authenticate(standin: Standin, intent_id: str, *, complete: bool) -> dict[str, Any]:
    """Finish a pending 3-D Secure challenge as the cardholder would (KeyError / ValueError)."""
    intent = standin.store.get(intent_id, KIND)
    if intent is None:
        raise KeyError(intent_id)
    if intent["status"] != "requires_action":
        raise ValueError(f"{intent_id} is {intent['status']}, not waiting for authentication")
    pm = standin.store.get(intent["payment_method"], wallet.KIND)
    if not complete:
        failure = errors.error(400, AUTH_FAILED_MESSAGE, code=AUTH_FAILED).error
        return fail(standin, intent, pm, failure)
    decline = pm["_card"]["decline_code"]
    if decline:
        return fail(standin, intent, pm, wallet.card_error(decline).error)
    return succeed(standin, intent, pm)


def cancel(standin: Standin, intent: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """Cancel an open intent; `setup_intent.canceled`."""
    if intent["status"] not in OPEN:
        raise errors.unexpected_state(
            f"You cannot cancel this SetupIntent because it has a status of {intent['status']}. "
            "Only a SetupIntent with one of the following statuses may be canceled: "
            + ", ".join(OPEN)
            + ".",
            setup_intent=public(intent),
        )
    intent = intent | {"status": "canceled", "cancellation_reason": reason, "next_action": None}
    standin.store.save(intent)
    events.publish(standin, "setup_intent.canceled", public(intent))
    return intent


def redirect_target(intent: dict[str, Any]) -> str | None:
    """Where the hosted challenge sends the browser afterwards (Stripe's return URL query)."""
    return_url = intent.get("_return_url")
    if not return_url:
        return None
    status = "succeeded" if intent["status"] == "succeeded" else "failed"
    query = urlencode(
        {
            "setup_intent": intent["id"],
            "setup_intent_client_secret": intent["client_secret"],
            "redirect_status": status,
        }
    )
    return f"{return_url}{'&' if '?' in return_url else '?'}{query}"
