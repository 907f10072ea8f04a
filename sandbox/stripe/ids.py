"""Stripe-style identifiers: `cus_...`, `pm_...`, client secrets and request ids."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_letters + string.digits

# Object type -> id prefix, and back.
PREFIXES = {
    "customer": "cus",
    "payment_method": "pm",
    "setup_intent": "seti",
    "event": "evt",
    "webhook_endpoint": "we",
    "delivery": "whdel",
}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}


def random_token(length: int = 24) -> str:
    """Random letters and digits."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_id(kind: str) -> str:
    """A new id for an object type, e.g. `cus_` plus 24 random characters."""
    return f"{PREFIXES[kind]}_{random_token()}"


def kind_of(object_id: str) -> str | None:
    """The object type an id belongs to, judged by its prefix."""
    prefix, _, rest = object_id.partition("_")
    return KINDS.get(prefix) if rest else None


def request_id() -> str:
    """A `req_...` id for one API request."""
    return f"req_{random_token(14)}"


def client_secret(intent_id: str) -> str:
    """An intent's client secret: `<id>_secret_<random>`."""
    return f"{intent_id}_secret_{random_token()}"


def webhook_secret() -> str:
    """A new endpoint signing secret (`whsec_...`)."""
    return f"whsec_{random_token(32)}"
