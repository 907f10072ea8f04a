"""Behind a reverse proxy (PIER_PROXY_HOPS), the login rate limit counts the customer's address
from X-Forwarded-For; without it, the header is ignored and the connection's address counts."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import base_config

PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # every request arrives from the proxy


@pytest.fixture
def proxied_app(app, db_backend, database_url_for, redis_test_url):
    """The app as configured behind one proxy (the `app` fixture empties the stores after)."""
    config = base_config(database_url_for(db_backend), redis_test_url) | {"PIER_PROXY_HOPS": 1}
    application = create_app(config)
    application.test_client_class = type(app.test_client())
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def attempts(client, email: str, address: str, count: int) -> list[int]:
    headers = {"X-Forwarded-For": address}
    return [
        client.submit(
            "/login", {"email": email, "password": "a wrong guess"}, headers=headers
        ).status_code
        for _ in range(count)
    ]


def test_behind_a_proxy_each_customer_address_has_its_own_login_limit(proxied_app):
    proxied_app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = proxied_app.test_client()
    client.environ_base.update(PROXY)
    assert attempts(client, "first@example.com", "203.0.113.1", 4) == [200, 200, 200, 429]
    assert attempts(client, "second@example.com", "203.0.113.2", 1) == [200]


def test_without_a_proxy_a_forwarded_address_is_ignored(app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    client.environ_base.update(PROXY)
    assert attempts(client, "first@example.com", "203.0.113.1", 3) == [200, 200, 200]
    assert attempts(client, "second@example.com", "203.0.113.2", 1) == [429]
