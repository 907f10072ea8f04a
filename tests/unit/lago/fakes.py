"""Helpers for the Lago client unit tests: a recording fake, fixed jitter, JSON replies."""

from __future__ import annotations

import functools
import json
import random
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

API_URL = "http://lago.test:3000"
API_KEY = "key-0123456789abcdef"


class FixedRandom(random.Random):
    """A Random whose `random()` always returns the same value, to pin the jitter."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


class Recorder:
    """Collects the requests a handler saw and the sleeps the client asked for."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    @property
    def paths(self) -> list[str]:
        return [r.url.raw_path.decode() for r in self.requests]


def lago_json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response as Lago sends it."""
    return httpx.Response(status, json=body, headers=headers)


def body_of(request: httpx.Request) -> Any:
    """The decoded JSON body of a request."""
    return json.loads(request.content)


@functools.cache
def rsa_public_pem() -> str:
    """The SubjectPublicKeyInfo PEM of an RSA key made once per run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()
