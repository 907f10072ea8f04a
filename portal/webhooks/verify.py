"""Signature checks on the raw body: Lago (JWT RS256 or HMAC) and Stripe (`Stripe-Signature`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
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
    if not isinstance(key, rsa.RSAPublicKey):
        raise NotConfigured("The saved webhook public key is not an RSA key.")
    claims = verified_claims(signature, key)
    data = claims.get("data")
    if not isinstance(data, str) or not hmac.compare_digest(data.encode(), raw):
        raise SignatureRejected("JWT data claim does not match the body")
    # Checked after the signature so that the refusal can carry the issuer of a token whose
    # signature verified: the one an admin may choose to trust.
    issuer = claims.get("iss")
    if issuer is None:
        raise SignatureRejected("JWT rejected: the token has no iss claim")
    if issuer != keys.issuer:
        if not isinstance(issuer, str):
            raise SignatureRejected("JWT issuer is not a string")
        raise WrongIssuer(issuer)


# A compact JWS: three base64url segments (no padding) joined by dots.
_COMPACT_JWS = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
_PADDING = ("", None, "==", "=")  # by length % 4; a remainder of 1 is never base64url


def _segment(text: str) -> bytes:
    fill = _PADDING[len(text) % 4]
    if fill is None:
        raise SignatureRejected("JWT rejected: a segment is not base64url")
    return base64.urlsafe_b64decode(text + fill)


def verified_claims(token: str, key, now: float | None = None) -> dict:
    """The claims of a compact RS256 JWS whose signature verifies with `key`.

    As strict as PyJWT's decode with RS256 as the only algorithm: the header must be a JSON
    object naming RS256 with no critical extensions and an encoded payload; the signature is
    checked over the exact bytes received; the claims must be a JSON object; `exp`, `nbf` and
    `iat` are checked when present; a token meant for an audience is refused (Pier expects none).
    """
    match = _COMPACT_JWS.fullmatch(token)
    if match is None:
        raise SignatureRejected("JWT rejected: not a compact JWS")
    header_text, payload_text, signature_text = match.groups()
    try:
        header = json.loads(_segment(header_text))
    except ValueError as exc:
        raise SignatureRejected("JWT rejected: the header is not JSON") from exc
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise SignatureRejected("JWT rejected: the algorithm is not RS256")
    if "crit" in header or header.get("b64", True) is not True:
        raise SignatureRejected("JWT rejected: unsupported header parameters")
    signing_input = token[: len(header_text) + 1 + len(payload_text)].encode("ascii")
    try:
        key.verify(_segment(signature_text), signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureRejected("JWT signature does not verify with the saved public key") from exc
    try:
        claims = json.loads(_segment(payload_text))
    except (ValueError, RecursionError) as exc:
        raise SignatureRejected("JWT rejected: the payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise SignatureRejected("JWT rejected: the payload is not a JSON object")
    _check_times(claims, time.time() if now is None else now)
    if "aud" in claims:
        raise SignatureRejected("JWT rejected: the token names an audience")
    return claims


def _check_times(claims: dict, now: float) -> None:
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise SignatureRejected(f"JWT rejected: {name} is not a number")
    if "exp" in claims and claims["exp"] <= now:
        raise SignatureRejected("JWT rejected: the token has expired")
    if any(name in claims and claims[name] > now for name in ("nbf", "iat")):
        raise SignatureRejected("JWT rejected: the token is not yet valid")


def verify_stripe(raw: bytes, header: str | None, secrets: list[str]) -> None:
    """Accept a Stripe delivery signed with any of the secrets, within the tolerance."""
    from portal.payments import signature_problem

    if not secrets:
        raise NotConfigured(
            "Stripe webhooks are not configured: save a signing secret in Settings › Billing "
            "or set STRIPE_WEBHOOK_SECRETS."
        )
    if not header:
        raise SignatureRejected("missing Stripe-Signature header")
    reasons = []
    for secret in secrets:
        problem = signature_problem(
            raw.decode("utf-8", "replace"), header, secret, STRIPE_TOLERANCE_SECONDS
        )
        if problem is None:
            return
        reasons.append(problem)
    expired = [r for r in reasons if "tolerance" in r.lower()]
    raise SignatureRejected((expired or reasons)[0][:255])
