"""Usage events through the API: how fast Pier accepts them, and how fast the outbox drains.

`python -m bench.api_events [--batches 50] [--database-url postgresql://...]` builds Pier on a
fresh database (a temporary SQLite file unless a PostgreSQL URL is given), connects it to a Lago
stand-in served on loopback, posts batches of 100 events through the API in process (the WSGI
app without a server in front, so the figure is Pier's own cost), then drains the outbox to the
stand-in and prints accepted events per second, drain events per second, and what Lago holds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import flask_migrate
import redis
from cryptography.fernet import Fernet

from jobs import runtime
from jobs.usage import forward_due
from portal import create_app
from portal.api import tokens
from portal.crypto import encrypt
from portal.extensions import db
from portal.models import BillingConnection, Tenant, UsageEvent
from sandbox.lago import create_app as create_standin
from sandbox.lago import get_standin
from sandbox.serving import serve_in_thread

BATCH = 100


def _standin(folder: Path):
    app = create_standin(db_path=str(folder / "lago.sqlite3"), api_key="bench-key", strict=False)
    server = serve_in_thread(app)
    standin = get_standin(app)
    standin.configure(public_url=server.url)
    standin.seed()
    return server, standin


def _pier(database_url: str, redis_url: str):
    os.environ.setdefault("PIER_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "API_RATE_LIMIT": "1000000 per minute",
            "LAGO_MAX_RETRIES": 0,
            "MAIL_URL": "console://",
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=50, help="batches of 100 events")
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database")
    options = parser.parse_args()
    from tests.servers import claimed_redis_database

    with claimed_redis_database() as redis_url, tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        server, standin = _standin(folder)
        url = options.database_url or "sqlite:///" + str(folder / "pier.sqlite3")
        app = _pier(url, redis_url)
        runtime.use_app(app)
        with app.app_context():
            db.session.add(
                BillingConnection(api_url=server.url, api_key_encrypted=encrypt("bench-key"))
            )
            tenant = Tenant(name="Bench Org")
            db.session.add(tenant)
            _, secret = tokens.create_token("bench", ["write"], None)
            db.session.commit()
            external_id = tenant.external_id
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        started = time.perf_counter()
        for batch in range(options.batches):
            events = [
                {
                    "transaction_id": f"bench-{batch}-{n}",
                    "tenant_id": external_id,
                    "code": "api_calls",
                    "timestamp": 1767225600 + batch,
                }
                for n in range(BATCH)
            ]
            reply = client.post("/api/v1/events/batch", json={"events": events}, headers=headers)
            assert reply.status_code == 202, reply.get_data(as_text=True)
        accepted_in = time.perf_counter() - started
        total = options.batches * BATCH
        started = time.perf_counter()
        outcome = forward_due()
        drained_in = time.perf_counter() - started
        with app.app_context():
            pending = db.session.query(UsageEvent).filter_by(state="pending").count()
        held = len(standin.store.all("event"))
        print(f"database            {url.split(':', 1)[0]}")
        print(f"events accepted     {total} in {accepted_in:.2f} s: {total / accepted_in:,.0f}/s")
        print(
            f"outbox drained      {outcome['sent']} in {drained_in:.2f} s: "
            f"{outcome['sent'] / drained_in:,.0f}/s"
        )
        print(f"failed / pending    {outcome['failed']} / {pending}")
        print(f"held by the stand-in {held} (lost {total - held}, doubled 0 by its unique index)")
        server.stop()
        redis.Redis.from_url(redis_url).flushdb()


if __name__ == "__main__":
    main()
