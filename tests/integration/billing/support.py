"""Helpers for the "Connect Lago" tests: forms, odd servers, the RQ worker, database dumps."""

from __future__ import annotations

import html as html_entities
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
from flask import Flask
from rq import Queue, SimpleWorker
from werkzeug.serving import BaseWSGIServer, make_server

from portal.queues import instance_id, queue
from sandbox.serving import QuietRequestHandler
from tests.conftest import PASSWORD

UNRESOLVABLE_HOST = "pier-connect-test.invalid"
SIGNUP_TIMEZONE = "Europe/Lisbon"  # one of the time zones Lago accepts for a customer


def connection_form(
    api_url: str,
    api_key: str = "",
    *,
    algorithm: str = "jwt",
    hmac_key: str | None = None,
    provider: str = "lago_self_hosted",
) -> dict[str, str]:
    """The fields of the Settings › Billing connection form."""
    data = {
        "provider": provider,
        "api_url": api_url,
        "api_key": api_key,
        "webhook_algorithm": algorithm,
    }
    if hmac_key is not None:
        data["hmac_key"] = hmac_key
    return data


def connect(admin, standin, **options: Any):
    """Test and save the connection through Settings › Billing, as an admin would."""
    response = admin.submit(
        "/admin/settings/billing", connection_form(standin.url, standin.api_key, **options)
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def text_of(response) -> str:
    """The response body with tags removed and whitespace collapsed (what a reader sees)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(a|b|code|em|small|span|strong)\b[^>]*>", "", html)  # inline: no gap
    text = html_entities.unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\s+", " ", text).strip()


def signup_form(email: str, organisation: str = "Harbour Lights Ltd") -> dict[str, str]:
    return {
        "organisation": organisation,
        "name": "Ada Lovelace",
        "email": email,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "timezone": SIGNUP_TIMEZONE,
    }


# -- Redis and RQ ------------------------------------------------------------------------------


def redis_of(app: Flask) -> redis.Redis:
    return redis.Redis.from_url(app.config["REDIS_URL"])


def sync_queue(app: Flask) -> Queue:
    with app.app_context():
        return queue("sync")


def sync_job_id(app: Flask, tenant_id: int) -> str:
    """The id of a tenant's sync job in this app's instance."""
    with app.app_context():
        return instance_id(f"sync-tenant-{tenant_id}")


def run_worker(app: Flask, *, with_scheduler: bool = False) -> None:
    """Run every queued sync job with a real RQ worker in this process, then stop."""
    from jobs import runtime

    runtime.use_app(app)
    jobs = sync_queue(app)
    SimpleWorker([jobs], connection=jobs.connection).work(burst=True, with_scheduler=with_scheduler)


# -- Servers that are not Lago -----------------------------------------------------------------


def web_page(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A web app's answer to every path: an HTML page."""
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><html><head><title>Lago</title></head><body><div id=root></div>"]


def health_only(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    body = b'{"version":"v1.51.0","message":"Success"}'
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@contextmanager
def serving(app: Callable[..., Any], ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port (optionally over TLS); yields its base URL."""
    server: BaseWSGIServer = make_server(
        "127.0.0.1",
        0,
        app,
        threaded=True,
        request_handler=QuietRequestHandler,
        ssl_context=ssl_context,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    scheme = "https" if ssl_context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def within(seconds: float, call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start `call` in a daemon thread and wait up to `seconds`; returns (thread, [result])."""
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    return worker, outcome


# -- What the database holds -------------------------------------------------------------------


def database_dump(app: Flask) -> bytes:
    """Everything the database stores: the SQLite files' bytes, or every PostgreSQL row as text."""
    from portal.extensions import db

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.session.remove()
        if url.startswith("sqlite:///"):
            db.engine.dispose()
            path = Path(url.removeprefix("sqlite:///"))
            files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-journal"))]
            return b"".join(f.read_bytes() for f in files if f.exists())
        with db.engine.connect() as conn:
            tables = conn.scalars(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            ).all()
            rows = [
                row
                for table in tables
                # Table names come from the catalogue, not from input.
                for row in conn.scalars(sa.text(f'SELECT t::text FROM "{table}" t'))  # noqa: S608
            ]
    return "\n".join(rows).encode()
