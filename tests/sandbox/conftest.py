"""Fixtures for the stand-in's own tests: the live stand-in and a webhook receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from sandbox.serving import serve_in_thread


@dataclass
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A tiny WSGI app that records requests and answers with scripted statuses."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        with self.lock:
            self.requests.append(
                Received(environ["REQUEST_METHOD"], environ["PATH_INFO"], headers, body)
            )
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        extra = [("Location", self.url + "/elsewhere")] if 300 <= status < 400 else []
        start_response(f"{status} Scripted", [("Content-Type", "text/plain"), *extra])
        return [b"ok"]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until at least `count` requests arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} request(s), got {len(self.requests)}")


@pytest.fixture
def receiver():
    """Start receivers on free ports: `receiver(statuses=[500, 200])` -> Receiver with .url."""
    servers = []

    def start(statuses: list[int] | None = None) -> Receiver:
        app = Receiver(statuses=list(statuses or [200]))
        server = serve_in_thread(app)
        app.url = server.url
        servers.append(server)
        return app

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def premium(lago_standin):
    """The stand-in with a premium licence (alerts are evaluated), put back afterwards."""
    lago_standin.standin.configure(premium=True)
    yield lago_standin
    lago_standin.standin.configure(premium=False, premium_integrations=["preview"], alerts_api=True)
