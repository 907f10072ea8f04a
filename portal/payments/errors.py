"""Stripe's errors in one hierarchy, each with the sentence a customer reads (not Stripe's text)."""

from __future__ import annotations

NOTHING_CHANGED = "Nothing was changed."


class PaymentError(Exception):
    """Stripe refused or could not be reached. `sentence` is for the customer."""

    sentence = f"The card service could not do this right now. {NOTHING_CHANGED}"
    transient = False

    def __init__(
        self, detail: str = "", *, code: str | None = None, decline_code: str | None = None
    ):
        super().__init__(detail or self.sentence)
        self.detail = detail
        self.code = code
        self.decline_code = decline_code


class NotConfigured(PaymentError):
    """No Stripe secret key is saved or set."""

    sentence = "Cards cannot be managed yet: the platform has not connected Stripe."


class CardDeclined(PaymentError):
    sentence = "Your card was declined. Try another card, or ask your bank why."


class InsufficientFunds(CardDeclined):
    sentence = "Your card was declined for insufficient funds. Try another card."


class CardExpired(CardDeclined):
    sentence = "This card has expired. Use another card."


class IncorrectCard(CardDeclined):
    sentence = (
        "The card number, expiry date or security code is not right. Check them and try again."
    )


class AuthenticationRequired(PaymentError):
    sentence = "Your bank asked for authentication. Confirm the payment with your bank to continue."


class AuthenticationFailed(PaymentError):
    sentence = (
        "Your bank's authentication did not succeed, so the card was not saved. "
        "Try again or use another card."
    )


class InvalidRequest(PaymentError):
    """Stripe refused the request (a programming or state error, or an unknown object)."""


class NotFound(InvalidRequest):
    sentence = f"That card is no longer on file. {NOTHING_CHANGED}"


class BadKey(PaymentError):
    sentence = (
        "Stripe refused the secret key. A platform admin must check it in Settings › Billing."
    )


class Unavailable(PaymentError):
    """Stripe could not be reached, answered 5xx or asked us to slow down."""

    sentence = (
        "We could not reach the card service, so nothing was changed. Please try again in a minute."
    )
    transient = True


class Timeout(Unavailable):
    sentence = (
        "The card service is slow to answer. Please try again in a minute; "
        "nothing is charged twice."
    )


DECLINES: dict[str, type[CardDeclined]] = {
    "insufficient_funds": InsufficientFunds,
    "expired_card": CardExpired,
    "incorrect_number": IncorrectCard,
    "invalid_number": IncorrectCard,
    "incorrect_cvc": IncorrectCard,
    "invalid_cvc": IncorrectCard,
    "invalid_expiry_month": IncorrectCard,
    "invalid_expiry_year": IncorrectCard,
}
AUTHENTICATION = {"authentication_required": AuthenticationRequired}
AUTHENTICATION_FAILED = {
    "setup_intent_authentication_failure": AuthenticationFailed,
    "payment_intent_authentication_failure": AuthenticationFailed,
}


def for_code(code: str | None, decline_code: str | None = None, detail: str = "") -> PaymentError:
    """The error for a Stripe error code (a SetupIntent's `last_setup_error`, a card error)."""
    for key in (decline_code, code):
        if key in AUTHENTICATION:
            return AUTHENTICATION[key](detail, code=code, decline_code=decline_code)
        if key in AUTHENTICATION_FAILED:
            return AUTHENTICATION_FAILED[key](detail, code=code, decline_code=decline_code)
        if key in DECLINES:
            return DECLINES[key](detail, code=code, decline_code=decline_code)
    return CardDeclined(detail, code=code, decline_code=decline_code)


def sentence_for(code: str | None, decline_code: str | None = None) -> str:
    """What a customer reads for a Stripe error code."""
    return for_code(code, decline_code).sentence
