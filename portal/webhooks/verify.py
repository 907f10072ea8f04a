"""Signature checks on the raw body: Lago (JWT RS256 or HMAC) and Stripe (`Stripe-Signature`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

STRIPE_TOLERANCE_SECONDS = 300


class NotConfigured(Exception):
    """Pier cannot check this source's signatures yet (the sender should retry later)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureRejected(Exception):
    """The delivery's signature is missing, malformed or wrong."""

    # The issuer of a token whose signature verified (set only by WrongIssuer).
    issuer: str | None = None

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WrongIssuer(SignatureRejected):
    """A JWT signed with the saved key whose `iss` is not the saved issuer."""

    def __init__(self, issuer: str) -> None:
        super().__init__("JWT issuer is not the configured issuer")
        self.issuer = issuer


@dataclass(frozen=True)
class LagoKeys:
    """What verifies Lago's webhooks: the algorithm and its key material."""

    algorithm: str
    public_key_pem: str | None = None
    issuer: str | None = None
    hmac_key: str | None = None


@lru_cache(maxsize=8)
def load_public_key(pem: str):
    """The parsed public key of a PEM, parsed once per process and PEM."""
    return load_pem_public_key(pem.encode())


def verify_lago(raw: bytes, headers, keys: LagoKeys | None) -> None:
    """Accept a Lago delivery signed as configured, or raise SignatureRejected/NotConfigured."""
    if keys is None:
        raise NotConfigured("Billing is not connected: Pier has no Lago webhook keys yet.")
    signature = headers.get("X-Lago-Signature")
    algorithm = headers.get("X-Lago-Signature-Algorithm")
    if not signature:
        raise SignatureRejected("missing X-Lago-Signature header")
    if not algorithm:
        raise SignatureRejected("missing X-Lago-Signature-Algorithm header")
    if algorithm != keys.algorithm:
        raise SignatureRejected(
            f"algorithm {algorithm[:16]!r} is not the configured {keys.algorithm}"
        )
    if keys.algorithm == "hmac":
        _verify_hmac(raw, signature, keys)
    else:
        _verify_jwt(raw, signature, keys)


def _verify_hmac(raw: bytes, signature: str, keys: LagoKeys) -> None:
    if not keys.hmac_key:
        raise NotConfigured("HMAC is configured but no HMAC key is saved.")
    expected = base64.b64encode(hmac.new(keys.hmac_key.encode(), raw, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.encode()):
        raise SignatureRejected("HMAC does not match the body")


def _verify_jwt(raw: bytes, signature: str, keys: LagoKeys) -> None:
    if not keys.public_key_pem or not keys.issuer:
        raise NotConfigured("JWT is configured but the public key or issuer is not saved.")
    try:
        key = load_public_key(keys.public_key_pem)
    except ValueError as exc:
        raise NotConfigured("The saved webhook public key cannot be read.") from exc
    try:
        claims = jwt.decode(signature, key, algorithms=["RS256"], options={"require": ["iss"]})
    except jwt.InvalidSignatureError as exc:
        raise SignatureRejected("JWT signature does not verify with the saved public key") from exc
    except jwt.InvalidTokenError as exc:
        raise SignatureRejected(f"JWT rejected: {str(exc)[:120]}") from exc
    data = claims.get("data")
    if not isinstance(data, str) or data.encode() != raw:
        raise SignatureRejected("JWT data claim does not match the body")
    # Checked here rather than by jwt.decode so that the refusal can carry the issuer of a
    # token whose signature verified: the one an admin may choose to trust.
    issuer = claims["iss"]
    if issuer != keys.issuer:
        if not isinstance(issuer, str):
            raise SignatureRejected("JWT issuer is not a string")
        raise WrongIssuer(issuer)


def verify_stripe(raw: bytes, header: str | None, secrets: list[str]) -> None:
    """Accept a Stripe delivery signed with any of the secrets, within the tolerance."""
    import stripe

    if not secrets:
        raise NotConfigured("Stripe webhooks are not configured: set STRIPE_WEBHOOK_SECRETS.")
    if not header:
        raise SignatureRejected("missing Stripe-Signature header")
    reasons = []
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                raw.decode("utf-8", "replace"), header, secret, STRIPE_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            reasons.append(str(exc.user_message or exc))
        else:
            return
    expired = [r for r in reasons if "tolerance" in r.lower()]
    raise SignatureRejected((expired or reasons)[0][:255])
