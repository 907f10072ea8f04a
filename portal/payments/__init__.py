"""Stripe: the only code that speaks to Stripe (cards, SetupIntents, customers, signatures)."""

from portal.payments.client import API_VERSION, Payments, deadline, signature_problem
from portal.payments.errors import PaymentError
from portal.payments.settings import effective, payments, request_deadline
from portal.payments.types import Account, CardInfo, SetupIntentInfo, StripeCustomer

__all__ = [
    "API_VERSION",
    "Account",
    "CardInfo",
    "PaymentError",
    "Payments",
    "SetupIntentInfo",
    "StripeCustomer",
    "deadline",
    "effective",
    "payments",
    "request_deadline",
    "signature_problem",
]
