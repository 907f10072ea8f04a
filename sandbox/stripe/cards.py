"""Stripe's test cards: numbers, `pm_card_*` / `tok_*` names, and how each one behaves."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SUCCEED = "succeed"
AUTHENTICATE = "authenticate"
DECLINE = "decline"


@dataclass(frozen=True)
class CardProfile:
    """A test card and what happens when it is set up."""

    number: str
    brand: str = "visa"
    funding: str = "credit"
    country: str = "US"
    setup: str = SUCCEED
    decline_code: str | None = None

    @property
    def last4(self) -> str:
        """The last four digits."""
        return self.number[-4:]

    def fingerprint(self) -> str:
        """A stable 16-character fingerprint of the number."""
        return hashlib.sha256(self.number.encode()).hexdigest()[:16]


# Token name (after `pm_card_` / `tok_`) -> card.
NAMED = {
    "visa": CardProfile("4242424242424242"),
    "visa_debit": CardProfile("4000056655665556", funding="debit"),
    "mastercard": CardProfile("5555555555554444", "mastercard"),
    "amex": CardProfile("378282246310005", "amex"),
    "discover": CardProfile("6011111111111117", "discover"),
    "authenticationRequiredOnSetup": CardProfile("4000002500003155", setup=AUTHENTICATE),
    "authenticationRequired": CardProfile("4000002760003184", setup=AUTHENTICATE),
    "authenticationRequiredSetupForOffSession": CardProfile("4000003800000446"),
    "authenticationRequiredChargeDeclinedInsufficientFunds": CardProfile(
        "4000008260003178", setup=AUTHENTICATE
    ),
    "threeDSecure2Required": CardProfile("4000000000003220", setup=AUTHENTICATE),
    "chargeDeclined": CardProfile(
        "4000000000000002", setup=DECLINE, decline_code="generic_decline"
    ),
    "chargeDeclinedInsufficientFunds": CardProfile(
        "4000000000009995", setup=DECLINE, decline_code="insufficient_funds"
    ),
    "chargeDeclinedLostCard": CardProfile(
        "4000000000009987", setup=DECLINE, decline_code="lost_card"
    ),
    "chargeDeclinedStolenCard": CardProfile(
        "4000000000009979", setup=DECLINE, decline_code="stolen_card"
    ),
    "chargeDeclinedExpiredCard": CardProfile(
        "4000000000000069", setup=DECLINE, decline_code="expired_card"
    ),
    "chargeDeclinedIncorrectCvc": CardProfile(
        "4000000000000127", setup=DECLINE, decline_code="incorrect_cvc"
    ),
    "chargeDeclinedProcessingError": CardProfile(
        "4000000000000119", setup=DECLINE, decline_code="processing_error"
    ),
    "chargeCustomerFail": CardProfile("4000000000000341"),
}
# Cards that only exist as numbers: 3-D Secure required, then declined.
NUMBERED = {
    "4000008400001629": CardProfile(
        "4000008400001629", setup=AUTHENTICATE, decline_code="generic_decline"
    ),
}
BY_NUMBER = {card.number: card for card in NAMED.values()} | NUMBERED

# decline_code -> (error code, message, param)
DECLINES = {
    "generic_decline": ("card_declined", "Your card was declined.", None),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds.", None),
    "lost_card": ("card_declined", "Your card was declined.", None),
    "stolen_card": ("card_declined", "Your card was declined.", None),
    "expired_card": ("expired_card", "Your card has expired.", "exp_month"),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect.", "cvc"),
    "processing_error": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
        None,
    ),
}
TOKEN_PREFIXES = ("pm_card_", "tok_")


def token_name(value: str) -> str | None:
    """`pm_card_visa` / `tok_visa` -> "visa"; None for anything else."""
    for prefix in TOKEN_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return None


def by_token(value: str) -> CardProfile | None:
    """The test card a `pm_card_*` or `tok_*` token names, or None."""
    name = token_name(value)
    return NAMED.get(name) if name else None


def luhn_valid(number: str) -> bool:
    """Whether a card number passes the Luhn check."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def brand_of(number: str) -> str:
    """The card brand guessed from the number's first digits."""
    if number.startswith(("34", "37")):
        return "amex"
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number.startswith(("6011", "65", "644", "645", "646", "647", "648", "649")):
        return "discover"
    if number.startswith(("36", "300", "301", "302", "303", "304", "305")):
        return "diners"
    if number.startswith("35"):
        return "jcb"
    if number.startswith("62"):
        return "unionpay"
    return "unknown"


def by_number(number: str) -> CardProfile | None:
    """The test card for a number (any other Luhn-valid number succeeds), or None if invalid."""
    digits = number.replace(" ", "")
    if digits in BY_NUMBER:
        return BY_NUMBER[digits]
    if not luhn_valid(digits):
        return None
    return CardProfile(digits, brand_of(digits))
