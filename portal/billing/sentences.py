"""Lago's refusals and failures, told to a customer in a sentence (never Lago's raw text)."""

from __future__ import annotations

from portal.lago import LagoError
from portal.lago.errors import (
    LagoConnectionError,
    LagoNotAllowed,
    LagoNotFound,
    LagoRateLimited,
    LagoValidationError,
)

NOTHING_CHANGED = "Nothing was changed."

# Lago's 422 error codes (in `error_details`) that a customer can act on.
VALIDATION = {
    "invalid_date": "That date is not possible: it must be after today and after the start.",
    "value_is_mandatory": "Something required was missing.",
    "new_plan_should_be_different_from_existing_plan": "You are already on that plan.",
    "currencies_does_not_match": "That plan is in another currency than your subscription.",
    "plan_not_found": "That plan is no longer offered.",
    "customer_not_found": "Your billing account is still being set up.",
}
NOT_ALLOWED = {
    "payment_processor_is_currently_handling_payment": (
        "Your payment is being processed right now; we will show the result as soon as it comes."
    ),
    "invalid_status": (
        "This can no longer be changed: it has moved on since the page was loaded. "
        "Nothing was changed."
    ),
    "no_active_subscription": "There is no active subscription to change. Nothing was changed.",
}


def for_customer(error: LagoError) -> str:
    """What a customer reads when an action on their billing did not go through."""
    if isinstance(error, LagoValidationError):
        codes = [code for codes in error.field_errors.values() for code in codes]
        for code in [*codes, error.code or ""]:
            if code in VALIDATION:
                return f"{VALIDATION[code]} {NOTHING_CHANGED}"
        return f"The billing system did not accept this change. {NOTHING_CHANGED}"
    if isinstance(error, LagoNotAllowed):
        return NOT_ALLOWED.get(error.code or "", NOT_ALLOWED["invalid_status"])
    if isinstance(error, LagoNotFound):
        return f"Your subscription was not found in the billing system. {NOTHING_CHANGED}"
    if isinstance(error, LagoRateLimited):
        return "The billing system is busy. Please try again in a few seconds."
    if isinstance(error, LagoConnectionError) or error.transient:
        return (
            "We could not reach the billing system, so nothing was changed. "
            "Please try again in a minute."
        )
    return f"The billing system could not do this right now. {NOTHING_CHANGED}"
