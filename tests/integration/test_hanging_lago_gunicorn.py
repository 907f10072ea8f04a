"""Under gunicorn (the project's gunicorn.conf.py), a Lago that accepts connections and never
answers holds no page and no worker."""

from __future__ import annotations

import re
import socket
import threading
import time

import httpx
import pytest

from portal import crypto
from portal.extensions import db
from portal.models import BillingConnection, Provider, WebhookAlgorithm
from tests.conftest import PASSWORD
from tests.gunicorn import gunicorn

pytestmark = pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)

ADMIN_PAGES = (
    "/admin/",
    "/admin/plans",
    "/admin/settings/billing",
    "/admin/tenants",
    "/admin/webhooks",
    "/admin/jobs",
    "/admin/audit",
)
LIVE_PARTS = ("/admin/plans/lago", "/admin/mrr", "/admin/health", "/admin/tenants/revenue")
CUSTOMER_PAGES = ("/", "/team/", "/organisation/", "/account/")
DEADLINE = 3.0  # PIER_LAGO_REQUEST_DEADLINE's default
GUNICORN_TIMEOUT = "8"  # a worker held by one Lago call (10 s read timeout) would be killed


@pytest.fixture
def hanging_lago():
    """A TCP server that accepts every connection and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    listener.close()


def logged_in(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=60, trust_env=False)
    page = client.get("/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    form = {"email": email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form).status_code in (302, 303)
    return client


def timed_get(client: httpx.Client, path: str, **kwargs) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.get(path, **kwargs)
    return response, time.monotonic() - started


def test_every_page_answers_at_once_and_no_worker_is_killed(
    app, make_person, database_url_for, redis_test_url, hanging_lago, tmp_path
):
    with app.app_context():
        db.session.add(
            BillingConnection(
                provider=Provider.lago_self_hosted,
                api_url=hanging_lago,
                api_key_encrypted=crypto.encrypt("lago-api-key"),
                webhook_algorithm=WebhookAlgorithm.jwt,
                webhook_issuer=hanging_lago,
            )
        )
        db.session.commit()
    admin, owner = make_person(None, admin=True), make_person("owner")
    settings = {"PIER_TIMEOUT": GUNICORN_TIMEOUT}
    url = database_url_for("postgresql")
    with gunicorn(url, redis_test_url, tmp_path / "gunicorn.log", **settings) as server:
        as_admin, as_owner = logged_in(server.url, admin.email), logged_in(server.url, owner.email)
        booted = re.findall(r"Booting worker with pid: (\d+)", server.log_text())

        for client, paths in ((as_admin, ADMIN_PAGES), (as_owner, CUSTOMER_PAGES)):
            for path in paths:
                page, took = timed_get(client, path)
                assert page.status_code == 200, (path, page.status_code)
                assert took < 2, f"{path} took {took:.1f} s"

        # The live parts give up at the request's deadline, until the breaker opens (after 5
        # failures by default); then they say so at once.
        fragment = {"HX-Request": "true"}
        for path in LIVE_PARTS * 2:
            part, took = timed_get(as_admin, path, headers=fragment)
            assert part.status_code == 200, path
            assert took < DEADLINE + 1.5, f"{path} took {took:.1f} s"
        for path in LIVE_PARTS:
            part, took = timed_get(as_admin, path, headers=fragment)
            assert took < 2, f"{path} took {took:.1f} s with the breaker open"
            assert "Lago is not answering; showing what Pier last stored." in part.text, path
        home, took = timed_get(as_owner, "/")
        assert took < 2
        assert "The billing system is not answering" in home.text

        log = server.log_text()
        assert "WORKER TIMEOUT" not in log
        assert re.findall(r"Booting worker with pid: (\d+)", log) == booted
        assert len(booted) == 2
