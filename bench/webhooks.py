"""Webhook ingress benchmark: gunicorn on PostgreSQL, signed Lago deliveries, then a drain.

Run with `make bench` (or `python -m bench.webhooks --help`). It creates a fresh, migrated
PostgreSQL database and claims a free Redis database, serves the portal with gunicorn on
loopback, posts signed webhooks at a fixed concurrency (20 % duplicates, some of them in
flight together, and several events per object), drains the queue with RQ workers, and
prints acknowledgements per second, ack latency, and what was processed and lost.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import psycopg
import redis
import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench import load
from bench.worker import DISPATCHED

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PATH = "/webhooks/lago"
ISSUER = "http://127.0.0.1:3000"
HMAC_KEY = str(uuid.UUID(int=random.getrandbits(128)))
ORGANIZATION = "6c3e3a43-7e0f-4b3c-8c2b-5a1d3f0e9b11"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_key_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# -- The environment: database, Redis, settings ------------------------------------------------


@contextlib.contextmanager
def fresh_database():
    """A new PostgreSQL database for this run, dropped afterwards; yields its URL."""
    from tests.servers import postgres_url

    admin = os.environ.get("PIER_BENCH_POSTGRES_URL") or postgres_url()
    name = f"pier_bench_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of the portal, its gunicorn workers and the RQ workers."""
    keep = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return keep | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PIER_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PIER_ENV": "production",
        "PIER_BASE_URL": "http://127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }


def build_app(env: dict[str, str]):
    """The portal in this process, configured like the servers (for setup and checks)."""
    from portal import create_app

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def migrate(app) -> None:
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()


def connect_lago(app, algorithm: str, private_pem: str) -> None:
    """Save the billing connection the webhooks are verified with."""
    from portal import crypto
    from portal.extensions import db
    from portal.models import BillingConnection, Provider, WebhookAlgorithm

    with app.app_context():
        db.session.execute(sa.delete(BillingConnection))
        db.session.add(
            BillingConnection(
                provider=Provider.lago_self_hosted,
                api_url=ISSUER,
                api_key_encrypted=crypto.encrypt("bench-api-key"),
                webhook_algorithm=WebhookAlgorithm(algorithm),
                webhook_public_key=public_key_pem(private_pem),
                webhook_issuer=ISSUER,
                hmac_key_encrypted=crypto.encrypt(HMAC_KEY),
            )
        )
        db.session.commit()


def empty_inbox(app, redis_url: str) -> None:
    from portal.extensions import db

    with app.app_context():
        db.session.execute(sa.text("TRUNCATE webhook_events, webhook_signature_failures"))
        db.session.commit()
    redis.Redis.from_url(redis_url).flushdb()


# -- The traffic -------------------------------------------------------------------------------


def lago_body(webhook_type: str, lago_id: str, n: int) -> bytes:
    """A compact customer webhook body of a realistic size (about 1 KB)."""
    customer = {
        "lago_id": lago_id,
        "external_id": f"tenant-{lago_id[:8]}",
        "sequential_id": n,
        "slug": f"CUS-{n:06d}",
        "name": "Harbour Lights Ltd",
        "email": "billing@harbour-lights.example",
        "currency": "EUR",
        "country": "PT",
        "address_line1": "Rua Augusta 100",
        "city": "Lisboa",
        "zipcode": "1100-053",
        "timezone": "Europe/Lisbon",
        "applicable_timezone": "Europe/Lisbon",
        "net_payment_term": 30,
        "customer_type": "company",
        "account_type": "customer",
        "tax_identification_number": "PT999999990",
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-02-01T10:00:00Z",
        "billing_configuration": {
            "invoice_grace_period": 3,
            "payment_provider": "stripe",
            "payment_provider_code": "stripe",
            "provider_customer_id": f"cus_{lago_id[:14]}",
            "document_locale": "en",
        },
        "metadata": [
            {"lago_id": str(uuid.uuid4()), "key": "billing_type", "value": "organization"},
            {"lago_id": str(uuid.uuid4()), "key": "created_by", "value": "ada@example.com"},
        ],
    }
    payload = {
        "webhook_type": webhook_type,
        "object_type": "customer",
        "organization_id": ORGANIZATION,
        "customer": customer,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(body: bytes, algorithm: str, private_pem: str, key: str) -> dict[str, str]:
    """The four headers Lago sends, signed like lago-api signs them."""
    if algorithm == "hmac":
        digest = hmac.new(HMAC_KEY.encode(), body, hashlib.sha256).digest()
        signature = base64.b64encode(digest).decode()
    else:
        signature = jwt.encode({"data": body.decode(), "iss": ISSUER}, private_pem, "RS256")
    return {
        "Content-Type": "application/json",
        "X-Lago-Signature": signature,
        "X-Lago-Signature-Algorithm": algorithm,
        "X-Lago-Unique-Key": key,
    }


def traffic(
    count: int, algorithm: str, private_pem: str, port: int, seed: int
) -> list[load.Request]:
    """`count` requests: 80 % new events, 20 % duplicates (half right behind their original)."""
    rng = random.Random(seed)
    objects = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(max(count // 10, 1))]
    requests: list[load.Request] = []
    originals: list[load.Request] = []
    while len(requests) < count:
        if originals and rng.random() < 0.2:
            repeat = originals[-1] if rng.random() < 0.5 else rng.choice(originals)
            requests.append(repeat)
            continue
        key = str(uuid.UUID(int=rng.getrandbits(128)))
        body = lago_body("customer.updated", rng.choice(objects), len(originals))
        headers = signed_headers(body, algorithm, private_pem, key)
        request = load.render(HOST, port, PATH, headers, body, key)
        originals.append(request)
        requests.append(request)
    return requests


# -- The servers -------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, args: argparse.Namespace):
    """The portal under gunicorn with the project's gunicorn.conf.py, on loopback, stopped after."""
    threads = 1 if args.worker_class == "sync" else args.threads
    env = env | {
        "PIER_BIND": f"{HOST}:{port}",
        "PIER_WORKERS": str(args.workers),
        "PIER_THREADS": str(threads),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--keep-alive",
        "30",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "app:app",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_until_ready(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(15)


def wait_until_ready(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn exited; see its output above.")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1, trust_env=False).is_success:
                return
        time.sleep(0.2)
    sys.exit("gunicorn did not answer /healthz in time.")


def cpu_seconds(master: subprocess.Popen) -> float:
    """CPU time used so far by gunicorn's workers (Linux /proc), for CPU per request."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0
    for pid in children:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def drain(env: dict[str, str], workers: int) -> float:
    """Run RQ workers until the queue is empty; returns the seconds it took."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "bench.worker"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(workers)]
    for process in processes:
        if process.wait(600) != 0:
            sys.exit("a bench worker failed; see its output above.")
    return time.perf_counter() - started


# -- The checks and the figures ----------------------------------------------------------------


def tally(app, redis_url: str, outcome: load.Outcome) -> dict[str, int]:
    """What the database and the counting registry say after the drain."""
    from portal.extensions import db

    with app.app_context():
        rows = db.session.execute(
            sa.text("SELECT unique_key, status, duplicates FROM webhook_events")
        ).all()
    dispatched = {
        k.decode().split(":", 1)[1]: int(v)
        for k, v in redis.Redis.from_url(redis_url).hgetall(DISPATCHED).items()
    }
    processed = {key for key, status, _ in rows if status == "processed"}
    return {
        "rows": len(rows),
        "duplicates_counted": sum(duplicates for _, _, duplicates in rows),
        "processed": len(processed),
        "duplicates_processed": sum(n - 1 for n in dispatched.values() if n > 1),
        "lost": len(outcome.acknowledged - processed),
    }


def report(algorithm: str, outcome: load.Outcome, drain_seconds: float, counts: dict) -> None:
    """Print one run's figures."""
    sent = len(outcome.latencies)
    rows = [
        ("requests sent", f"{sent} {outcome.statuses}, {outcome.errors} socket errors"),
        ("acknowledged per second", f"{sent / outcome.seconds:,.0f}"),
        (
            "ack latency p50 / p99",
            f"{outcome.percentile(50):.1f} / {outcome.percentile(99):.1f} ms",
        ),
        ("ack latency max", f"{max(outcome.latencies) * 1000:.1f} ms"),
        ("gunicorn CPU / request", f"{outcome.server_cpu / sent * 1e6:.0f} us"),
        ("inbox rows", f"{counts['rows']}, duplicates counted {counts['duplicates_counted']}"),
        (
            "events processed",
            f"{counts['processed']} in {drain_seconds:.1f} s "
            f"({counts['processed'] / drain_seconds:,.0f}/s)",
        ),
        ("duplicates processed", f"{counts['duplicates_processed']} (must be 0)"),
        ("lost", f"{counts['lost']} (must be 0)"),
    ]
    print(f"\n{algorithm.upper()}")
    for label, value in rows:
        print(f"  {label:<24}{value}")


def run_one(args, app, env, redis_url: str, algorithm: str, private_pem: str) -> bool:
    empty_inbox(app, redis_url)
    connect_lago(app, algorithm, private_pem)
    port = free_port()
    print(f"\n[{algorithm}] signing {args.requests + args.warmup} requests ...", flush=True)
    warmup = traffic(args.warmup, algorithm, private_pem, port, seed=1)
    requests = traffic(args.requests, algorithm, private_pem, port, seed=2)
    load_before = os.getloadavg()[0]
    with gunicorn(env, port, args) as server:
        load.run(HOST, port, warmup, args.concurrency)
        print(f"[{algorithm}] posting at concurrency {args.concurrency} ...", flush=True)
        before = cpu_seconds(server)
        outcome = load.run(HOST, port, requests, args.concurrency)
        outcome.server_cpu = cpu_seconds(server) - before
    outcome.acknowledged |= {r.key for r in warmup}
    load_after = os.getloadavg()[0]
    drain_seconds = drain(env, args.rq_workers)
    counts = tally(app, redis_url, outcome)
    report(algorithm, outcome, drain_seconds, counts)
    print(f"  {'load average':<24}{load_before:.2f} before, {load_after:.2f} after the posting")
    return counts["duplicates_processed"] == 0 and counts["lost"] == 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000, help="per algorithm (max 50000)")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=6, help="threads per gunicorn worker")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--algorithms", default="jwt,hmac")
    args = parser.parse_args(argv)
    args.requests = min(args.requests, 50_000)

    from tests.servers import claimed_redis_database

    private_pem = private_key_pem()
    ok = True
    with claimed_redis_database() as redis_url, fresh_database() as database_url:
        env = settings(database_url, redis_url)
        app = build_app(env)
        migrate(app)
        print(
            f"{os.cpu_count()} CPUs; gunicorn {args.workers} {args.worker_class} workers"
            f" x {args.threads} threads; concurrency {args.concurrency}"
        )
        for algorithm in args.algorithms.split(","):
            ok &= run_one(args, app, env, redis_url, algorithm.strip(), private_pem)
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
