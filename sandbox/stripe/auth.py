"""API keys: the secret key everywhere, the publishable key only where Stripe.js may call."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from flask import current_app, request

from . import errors
from .state import current

PUBLISHABLE_FLAG = "stripe_publishable_ok"


def publishable(view: Callable) -> Callable:
    """Mark a view as callable with the publishable key (as Stripe.js does)."""
    setattr(view, PUBLISHABLE_FLAG, True)
    return view


def presented_key() -> str | None:
    """The key from `Authorization: Bearer <key>` or Basic auth with the key as user name."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def authenticate() -> str:
    """Check the key; returns "secret" or "publishable", or raises Stripe's 401."""
    key = presented_key()
    if key is None:
        raise errors.no_api_key()
    config = current().config
    if key == config.api_key:
        return "secret"
    if key == config.publishable_key:
        view = current_app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, PUBLISHABLE_FLAG, False):
            return "publishable"
        raise errors.publishable_key_not_allowed()
    raise errors.bad_api_key(key)
