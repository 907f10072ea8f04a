"""Webhook signatures as Lago makes them: JWT RS256 over the body, or base64 HMAC-SHA256."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RSA_BITS = 2048


def generate_private_key_pem() -> str:
    """A new RSA private key (PKCS#8 PEM), like the instance key lago-api signs with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@functools.lru_cache(maxsize=8)
def _private_key(private_pem: str) -> rsa.RSAPrivateKey:
    """The parsed key (loading checks the RSA key, which takes tens of milliseconds)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_key_pem(private_pem: str) -> str:
    """The PEM (SubjectPublicKeyInfo) public key of a PEM private key."""
    key = _private_key(private_pem)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def encode64(data: bytes) -> str:
    """Ruby's `Base64.encode64`: padded base64 with a newline after every 60 characters and at
    the end (nothing for no data)."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def public_key_b64(private_pem: str) -> str:
    """What both public key endpoints return, as lago-api writes it:
    `Base64.encode64(RsaPublicKey.to_s)`, the PEM in Ruby's line-wrapped base64."""
    return encode64(public_key_pem(private_pem).encode())


def jwt_signature(body: str, private_pem: str, issuer: str) -> str:
    """RS256 JWT with claims `data` (the exact body string) and `iss`; no exp, iat or aud."""
    return jwt.encode({"data": body, "iss": issuer}, _private_key(private_pem), algorithm="RS256")


def hmac_signature(body: str, hmac_key: str) -> str:
    """Standard base64 (padded) of HMAC-SHA256(org hmac_key, body)."""
    digest = hmac.new(hmac_key.encode(), body.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_headers(
    *, body: str, algo: str, unique_key: str, private_pem: str, hmac_key: str, issuer: str
) -> dict[str, str]:
    """The four headers Lago sends with every webhook."""
    if algo == "hmac":
        signature = hmac_signature(body, hmac_key)
    else:
        signature = jwt_signature(body, private_pem, issuer)
    return {
        "Content-Type": "application/json",
        "X-Lago-Signature": signature,
        "X-Lago-Signature-Algorithm": algo,
        "X-Lago-Unique-Key": unique_key,
    }
