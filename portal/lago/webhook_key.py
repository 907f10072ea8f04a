"""Lago's webhook public key, read the way Lago writes it.

Lago serves the key as Ruby's `Base64.encode64` of the PEM: a newline after every 60 characters
and at the end. Ruby reads such text with `Base64.decode64`, which skips whatever is not in the
base64 alphabet; `decode64` here reads it the same way, so the key an admin copies from Lago's
API, its UI or a file is accepted in any of its usual shapes.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VALUES = frozenset(ALPHABET)
PEM_BEGIN = "-----BEGIN"
MAX_CHARS = 20_000

NOT_A_KEY = (
    "This is not a public key Pier can read. Use the PEM, from -----BEGIN PUBLIC KEY----- "
    "to the end, or the base64 text Lago serves at /api/v1/webhooks/public_key."
)
PRIVATE_KEY = (
    "This is a private key. Paste Lago's public key; the private key stays on the Lago server."
)
NOT_RSA = "This public key is not an RSA key; Lago signs its webhooks with RSA (RS256)."
EMPTY = "The public key is empty."


class UnreadableKey(ValueError):
    """The text is not a public key that verifies Lago's webhooks; str() says why."""


def decode64(text: str) -> bytes:
    """Base64 read leniently, as Ruby's `Base64.decode64` (`unpack1("m")`) reads it.

    Characters outside the alphabet (newlines, spaces, `-`, `_`) are skipped; an `=` in the
    third or fourth place of a group ends the data (in the first two it is skipped); a last
    group of two or three characters gives one or two bytes, a lone character gives none.
    """
    kept: list[str] = []
    for char in text:
        if char in _VALUES:
            kept.append(char)
        elif char == "=" and len(kept) % 4 >= 2:
            break
    if len(kept) % 4 == 1:
        kept.pop()
    chars = "".join(kept)
    return base64.b64decode(chars + "=" * (-len(chars) % 4))


def read_public_key(text: str | None) -> str:
    """The public key's canonical PEM, from what Lago serves or what an admin pastes.

    Accepted: base64 of the PEM (Lago's format, newlines or not), the PEM itself, or the PEM's
    base64 body without its BEGIN/END lines. Raises UnreadableKey with a sentence otherwise.
    """
    text = (text or "").strip()
    if not text:
        raise UnreadableKey(EMPTY)
    if len(text) > MAX_CHARS:
        raise UnreadableKey(NOT_A_KEY)
    if PEM_BEGIN in text:
        # Pasted PEMs come with Windows line ends or indented from a config file.
        data = "\n".join(line.strip() for line in text.splitlines()).encode("utf-8", "replace")
    else:
        data = decode64(text)
    if b"PRIVATE KEY" in data:
        raise UnreadableKey(PRIVATE_KEY)
    try:
        if PEM_BEGIN.encode() in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UnreadableKey(NOT_A_KEY) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnreadableKey(NOT_RSA)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")
