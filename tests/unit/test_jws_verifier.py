"""The webhook JWS check refuses every token PyJWT's strict RS256 decode would refuse."""

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from portal.webhooks.verify import SignatureRejected, verified_claims

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC = KEY.public_key()
NOW = 1_800_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(claims: dict, *, key=KEY, headers: dict | None = None) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def test_a_good_token_gives_its_claims_as_pyjwt_does():
    token = signed({"data": "{}", "iss": "https://lago.example"})
    assert verified_claims(token, PUBLIC, NOW) == jwt.decode(token, PUBLIC, algorithms=["RS256"])


def test_alg_none_is_refused():
    token = b64(b'{"alg":"none"}') + "." + b64(b'{"data":"{}"}') + "."
    with pytest.raises(SignatureRejected):
        verified_claims(token, PUBLIC, NOW)


def test_hmac_with_the_public_key_as_secret_is_refused():
    pem = PUBLIC.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64(b'{"data":"{}"}')
    mac = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(SignatureRejected, match="RS256"):
        verified_claims(f"{header}.{payload}.{b64(mac)}", PUBLIC, NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(t.split(".")[1], b64(b'{"data":"other"}')),  # payload swapped
        lambda t: t + "=",  # padding is not base64url
        lambda t: t[:-2],  # signature cut
        lambda t: ".".join(t.split(".")[:2]),  # no signature segment
        lambda t: t.replace(".", "..", 1),  # an empty segment
    ],
)
def test_a_tampered_token_is_refused(tamper):
    with pytest.raises(SignatureRejected):
        verified_claims(tamper(signed({"data": "{}"})), PUBLIC, NOW)


def test_another_keys_signature_is_refused():
    with pytest.raises(SignatureRejected, match="does not verify"):
        verified_claims(signed({"data": "{}"}, key=OTHER), PUBLIC, NOW)


@pytest.mark.parametrize(
    "headers", [{"crit": ["b64"], "b64": False}, {"b64": False}, {"crit": ["x"], "x": 1}]
)
def test_critical_or_unencoded_payload_headers_are_refused(headers):
    with pytest.raises(SignatureRejected):
        verified_claims(signed({"data": "{}"}, headers=headers), PUBLIC, NOW)


@pytest.mark.parametrize(
    "claims",
    [
        {"data": "{}", "exp": NOW - 1},
        {"data": "{}", "nbf": NOW + 60},
        {"data": "{}", "iat": NOW + 60},
        {"data": "{}", "exp": "tomorrow"},
        {"data": "{}", "aud": "someone"},
    ],
)
def test_time_and_audience_claims_are_checked(claims):
    with pytest.raises(SignatureRejected):
        verified_claims(signed(claims), PUBLIC, NOW)


def test_a_payload_that_is_not_an_object_is_refused():
    header = b64(json.dumps({"alg": "RS256"}).encode())
    payload = b64(b'["data"]')
    signature = KEY.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(SignatureRejected, match="JSON object"):
        verified_claims(f"{header}.{payload}.{b64(signature)}", PUBLIC, NOW)
