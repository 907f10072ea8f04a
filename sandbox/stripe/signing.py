"""Webhook signatures as Stripe makes them: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

SCHEME = "v1"


def signature(payload: str, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of `"<timestamp>.<payload>"`, keyed by the endpoint secret."""
    signed = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(payload: str, secrets: Iterable[str], timestamp: int) -> str:
    """The `Stripe-Signature` value: one `v1` per active secret (two while rolling)."""
    parts = [f"t={timestamp}"]
    parts += [f"{SCHEME}={signature(payload, secret, timestamp)}" for secret in secrets]
    return ",".join(parts)
