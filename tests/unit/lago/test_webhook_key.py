"""Lago's webhook public key: Ruby's lenient base64, the usual shapes of a key, clear refusals."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from portal.lago.webhook_key import (
    EMPTY,
    NOT_A_KEY,
    NOT_RSA,
    PRIVATE_KEY,
    UnreadableKey,
    decode64,
    read_public_key,
)
from sandbox.lago.signing import encode64
from tests.unit.lago.fakes import rsa_public_pem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The examples of Ruby's Base64.decode64 documentation.
        ("VGhpcyBpcyBsaW5lIDEKVGhpcyBpcyBsaW5lIDIK\n", b"This is line 1\nThis is line 2\n"),
        ("\x00\n-_", b""),
        ("MDEyMzQ1Njc", b"01234567"),
        ("MDEyMzQ1Njc=", b"01234567"),
        ("MDEyMzQ1Njc==", b"01234567"),
        # Encode64's own line breaks, and any other character outside the alphabet.
        (
            "Tm93IGlzIHRoZSB0aW1lIGZvciBhbGwgZ29vZCBjb2RlcnMKdG8gbGVhcm4g\nUnVieQ==\n",
            b"Now is the time for all good coders\nto learn Ruby",
        ),
        ("QU\r\nJD RE VG", b"ABCDEF"),
        ("QUJ\u00e9DREVG", b"ABCDEF"),
        # An "=" in the third or fourth place ends the data; in the first two it is skipped.
        ("QQ==QUJD", b"A"),
        ("QUI=QUJD", b"AB"),
        ("=QUJD", b"ABC"),
        ("QUJD=REVG", b"ABCDEF"),
        ("QUJDRE=VG", b"ABCD"),
        # A lone last character gives nothing.
        ("QUJDR", b"ABC"),
        ("", b""),
    ],
)
def test_decode64_reads_as_ruby_does(text, expected):
    assert decode64(text) == expected


def test_the_stand_in_encodes_as_ruby_does():
    # Ruby's documentation: Base64.encode64("Now is the time for all good coders\nto learn Ruby").
    assert encode64(b"Now is the time for all good coders\nto learn Ruby") == (
        "Tm93IGlzIHRoZSB0aW1lIGZvciBhbGwgZ29vZCBjb2RlcnMKdG8gbGVhcm4g\nUnVieQ==\n"
    )
    assert encode64(b"") == ""


def test_the_key_as_lago_serves_it_is_read():
    pem = rsa_public_pem()
    served = encode64(pem.encode())
    lines = served.split("\n")
    assert len(lines) > 5 and {len(line) for line in lines[:-2]} == {60} and lines[-1] == ""
    with pytest.raises(ValueError):
        base64.b64decode(served, validate=True)  # what a strict decoder does with it

    assert read_public_key(served) == pem
    assert read_public_key(served.replace("\n", "\r\n")) == pem
    assert read_public_key(base64.b64encode(pem.encode()).decode()) == pem


def test_a_pasted_pem_is_read_in_its_usual_shapes():
    pem = rsa_public_pem()
    assert read_public_key(pem) == pem
    assert read_public_key(pem.replace("\n", "\r\n")) == pem
    assert read_public_key("\n".join("    " + line for line in pem.splitlines())) == pem
    body = "".join(pem.splitlines()[1:-1])
    assert read_public_key(body) == pem  # the PEM's base64 without its BEGIN/END lines

    key = serialization.load_pem_public_key(pem.encode())
    pkcs1 = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    assert pkcs1.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    assert read_public_key(pkcs1.decode()) == pem


@pytest.mark.parametrize(
    "junk",
    [
        "not base64!",
        base64.b64encode(b"hello").decode(),
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "x" * 30_000,
    ],
)
def test_junk_is_refused_with_a_sentence(junk):
    with pytest.raises(UnreadableKey) as refused:
        read_public_key(junk)
    assert str(refused.value) == NOT_A_KEY
    assert str(refused.value).startswith("This is not a public key Pier can read.")


@pytest.mark.parametrize("empty", ["", "  \n", None])
def test_an_empty_key_is_refused(empty):
    with pytest.raises(UnreadableKey, match=EMPTY):
        read_public_key(empty)


def test_a_private_key_is_refused_and_named():
    private = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for text in (private.decode(), encode64(private)):
        with pytest.raises(UnreadableKey) as refused:
            read_public_key(text)
        assert str(refused.value) == PRIVATE_KEY


def test_a_key_that_is_not_rsa_is_refused():
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(UnreadableKey) as refused:
        read_public_key(encode64(pem))
    assert str(refused.value) == NOT_RSA
