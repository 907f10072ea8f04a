"""Fixtures for the "Connect Lago" tests: an admin, the stand-in's settings, the job runtime."""

from __future__ import annotations

import pytest

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pier talks to the stand-in on 127.0.0.1 directly, whatever the machine's proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def job_runtime():
    """Jobs run against the test's app; forget it afterwards."""
    from jobs import runtime

    yield runtime
    runtime._app = None


@pytest.fixture
def admin(as_role):
    """A logged-in platform admin's client (its CSRF token read once: the session keeps it)."""
    client, _ = as_role("admin")
    token = client.csrf_token()
    client.csrf_token = lambda: token
    return client


@pytest.fixture
def standin_config(lago_standin):
    """Change the stand-in's runtime settings for one test (through its control API)."""
    changed: dict[str, object] = {}

    def put(**settings: object) -> None:
        with lago_standin.control() as control:
            before = control.get("/config").json()
            for name in settings:
                changed.setdefault(name, before[name])
            reply = control.put("/config", json=settings)
            assert reply.status_code == 200, reply.text

    yield put
    if changed:
        with lago_standin.control() as control:
            control.put("/config", json=changed)
