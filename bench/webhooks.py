"""Webhook ingress benchmark: Pier's `/webhooks/lago` against a bare Flask endpoint, both under
the project's gunicorn.conf.py, in one run.

Run with `make bench` (or `python -m bench.webhooks --help`). It creates a fresh, migrated
PostgreSQL database and claims a free Redis database, then on loopback:

1. serves `bench/bare.py` (a Flask endpoint that only reads the body) with gunicorn and posts the
   signed deliveries to it as fast as it answers;
2. starts the bench workers (the real dispatcher and RQ processing, a counting registry), serves
   the portal with the same gunicorn settings and posts the same deliveries (20 % duplicates, some
   in flight together);
3. posts at a steady rate the machine can process, to measure the processing lag without a
   backlog;

and prints acknowledgements per second (and Pier's as a ratio to the bare endpoint's), ack latency,
the processing lag (acknowledged to processed), and what was processed twice or lost.
`--profile N` instead runs N deliveries through the portal in this process under cProfile and
prints where a request's time goes.
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
    """A customer webhook body of a realistic size (about 1.5 KB)."""
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
            {"lago_id": str(uuid.uuid4()), "key": "segment", "value": "mid-market"},
            {"lago_id": str(uuid.uuid4()), "key": "account_manager", "value": "grace@example"},
        ],
        "shipping_address": {
            "address_line1": "Rua Augusta 100",
            "city": "Lisboa",
            "zipcode": "1100-053",
            "country": "PT",
        },
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


def traffic(count: int, algorithm: str, private_pem: str, seed: int) -> list[load.Request]:
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
        request = load.render(HOST, PATH, headers, body, key)
        originals.append(request)
        requests.append(request)
    return requests


# -- The servers -------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(target: str, env: dict[str, str], port: int, args: argparse.Namespace):
    """`target` (app:app, bench.bare:app) under gunicorn with the project's gunicorn.conf.py, on
    loopback, stopped after."""
    env = env | {"PIER_BIND": f"{HOST}:{port}", "PIER_WORKERS": str(args.workers)}
    if args.threads:
        env["PIER_THREADS"] = str(args.threads)
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
        target,
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


@contextlib.contextmanager
def bench_workers(env: dict[str, str], count: int):
    """`count` bench workers (dispatcher and processing) running until the block ends."""
    command = [sys.executable, "-m", "bench.worker"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def wait_until_processed(app, keys: set[str], timeout: float) -> float:
    """Wait until every acknowledged key is processed (or `timeout` passes without progress);
    returns the seconds waited."""
    from portal.extensions import db

    started = last_progress = time.monotonic()
    done = -1
    query = sa.text("SELECT count(*) FROM webhook_events WHERE status = 'processed'")
    while time.monotonic() - last_progress < timeout:
        with app.app_context():
            now_done = db.session.scalar(query)
            db.session.remove()
        if now_done >= len(keys):
            break
        if now_done != done:
            done, last_progress = now_done, time.monotonic()
        time.sleep(0.2)
    return time.monotonic() - started


# -- The checks and the figures ----------------------------------------------------------------


def tally(app, redis_url: str, outcomes: list[load.Outcome]) -> dict:
    """What the database and the counting registry say after processing."""
    from portal.extensions import db

    with app.app_context():
        rows = db.session.execute(
            sa.text("SELECT unique_key, status, duplicates, processed_at FROM webhook_events")
        ).all()
    dispatched = {
        k.decode().split(":", 1)[1]: int(v)
        for k, v in redis.Redis.from_url(redis_url).hgetall(DISPATCHED).items()
    }
    processed = {key: at.timestamp() for key, status, _, at in rows if status == "processed"}
    acknowledged = set().union(*(outcome.acknowledged for outcome in outcomes))
    return {
        "rows": len(rows),
        "duplicates_counted": sum(duplicates for _, _, duplicates, _ in rows),
        "processed": len(processed),
        "processed_at": processed,
        "duplicates_processed": sum(n - 1 for n in dispatched.values() if n > 1),
        "lost": len(acknowledged - processed.keys()),
    }


def lags(outcome: load.Outcome, processed_at: dict[str, float]) -> list[float]:
    """Seconds from each acknowledgement to the event's processing."""
    return [processed_at[key] - at for key, at in outcome.acked_at.items() if key in processed_at]


def spread(values: list[float], unit: float = 1000, suffix: str = "ms") -> str:
    """p50 / p99 / max of values, scaled to a unit."""
    if not values:
        return "none"
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * unit

    return f"{at(50):,.0f} / {at(99):,.0f} / {ordered[-1] * unit:,.0f} {suffix}"


def rate(outcome: load.Outcome) -> float:
    return len(outcome.latencies) / outcome.seconds


def report(bare: load.Outcome, pier: load.Outcome, steady: load.Outcome, counts: dict, args):
    """Print the run's figures."""
    rows = [
        (
            "bare Flask endpoint",
            f"{rate(bare):,.0f} acks/s, p50 / p99 "
            f"{bare.percentile(50):.1f} / {bare.percentile(99):.1f} ms, {bare.statuses}",
        ),
        (
            "Pier /webhooks/lago",
            f"{rate(pier):,.0f} acks/s, p50 / p99 "
            f"{pier.percentile(50):.1f} / {pier.percentile(99):.1f} ms, {pier.statuses}",
        ),
        ("ratio to bare", f"{rate(pier) / rate(bare):.2f}"),
        (
            "CPU / request",
            f"bare {bare.server_cpu / len(bare.latencies) * 1e6:.0f} us, "
            f"Pier {pier.server_cpu / len(pier.latencies) * 1e6:.0f} us (gunicorn workers only)",
        ),
        ("socket errors", f"bare {bare.errors}, Pier {pier.errors + steady.errors}"),
        (
            "lag at full load",
            spread(lags(pier, counts["processed_at"]), 1, "s")
            + " (p50 / p99 / max; a backlog while posting outpaces processing)",
        ),
        (
            f"lag at {args.steady_rate:g}/s",
            spread(lags(steady, counts["processed_at"]))
            + f" (p50 / p99 / max; {len(steady.latencies)} requests, {steady.statuses})",
        ),
        ("inbox rows", f"{counts['rows']}, duplicates counted {counts['duplicates_counted']}"),
        ("events processed", f"{counts['processed']}"),
        ("processed twice", f"{counts['duplicates_processed']} (must be 0)"),
        ("lost", f"{counts['lost']} (must be 0)"),
    ]
    print(f"\n{args.algorithm.upper()}, {args.requests} requests at concurrency {args.concurrency}")
    for label, value in rows:
        print(f"  {label:<22}{value}")


def hammer(target: str, env, args, warmup, requests) -> load.Outcome:
    """Serve `target` with gunicorn, warm it up, then post `requests` as fast as it answers."""
    port = free_port()
    with gunicorn(target, env, port, args) as server:
        load.run(HOST, port, warmup, args.concurrency)
        before = cpu_seconds(server)
        outcome = load.run(HOST, port, requests, args.concurrency)
        outcome.server_cpu = cpu_seconds(server) - before
    return outcome


def run(args, app, env, redis_url: str, private_pem: str) -> bool:
    algorithm = args.algorithm
    empty_inbox(app, redis_url)
    connect_lago(app, algorithm, private_pem)
    total = args.warmup + args.requests + args.steady_requests
    print(f"[{algorithm}] signing {total} requests ...", flush=True)
    warmup = traffic(args.warmup, algorithm, private_pem, seed=1)
    requests = traffic(args.requests, algorithm, private_pem, seed=2)
    steady_requests = traffic(args.steady_requests, algorithm, private_pem, seed=3)
    print("[bare] posting ...", flush=True)
    bare = hammer("bench.bare:app", env, args, warmup, requests)
    print("[pier] posting ...", flush=True)
    with bench_workers(env, args.rq_workers):
        port = free_port()
        with gunicorn("app:app", env, port, args) as server:
            load.run(HOST, port, warmup, args.concurrency)
            before = cpu_seconds(server)
            pier = load.run(HOST, port, requests, args.concurrency)
            pier.server_cpu = cpu_seconds(server) - before
            wait_until_processed(app, pier.acknowledged | {r.key for r in warmup}, 60)
            print(f"[pier] posting at {args.steady_rate:g}/s ...", flush=True)
            steady = load.run(HOST, port, steady_requests, 4, rate=args.steady_rate)
            acknowledged = pier.acknowledged | steady.acknowledged | {r.key for r in warmup}
            wait_until_processed(app, acknowledged, 30)
    pier.acknowledged |= {r.key for r in warmup}
    counts = tally(app, redis_url, [pier, steady])
    report(bare, pier, steady, counts, args)
    return counts["duplicates_processed"] == 0 and counts["lost"] == 0


def profile(args, app, redis_url: str, private_pem: str) -> None:
    """Run deliveries through the portal's WSGI app in this process under cProfile and print
    where the time goes (the request only; gunicorn's own share is measured by the run)."""
    import cProfile
    import io
    import pstats

    from werkzeug.test import EnvironBuilder

    empty_inbox(app, redis_url)
    connect_lago(app, args.algorithm, private_pem)
    requests = traffic(args.profile + 200, args.algorithm, private_pem, seed=4)

    def environ(request: load.Request) -> dict:
        head, body = request.raw.split(b"\r\n\r\n", 1)
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        headers.pop("Host")
        return EnvironBuilder(path=PATH, method="POST", headers=headers, data=body).get_environ()

    environs = [environ(r) for r in requests]
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for each in environs[:200]:  # warm caches, connections and the key
        b"".join(app(each, start_response))
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for each in environs[200:]:
        b"".join(app(each, start_response))
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(
        f"{args.profile} deliveries in {elapsed:.2f} s under cProfile "
        f"({elapsed / args.profile * 1e6:.0f} us each, profiler overhead included); "
        f"statuses {sorted(set(statuses))}"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000, help="posted as fast as answered")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, help="threads per worker (gunicorn.conf.py's)")
    parser.add_argument("--rq-workers", type=int, default=1, help="bench workers")
    parser.add_argument("--steady-rate", type=float, default=100, help="requests per second")
    parser.add_argument("--steady-requests", type=int, default=1000)
    parser.add_argument("--algorithm", default="jwt", choices=["jwt", "hmac"])
    parser.add_argument("--profile", type=int, metavar="N", help="profile N deliveries instead")
    args = parser.parse_args(argv)
    args.requests = min(args.requests, 50_000)

    from tests.servers import claimed_redis_database

    private_pem = private_key_pem()
    with claimed_redis_database() as redis_url, fresh_database() as database_url:
        env = settings(database_url, redis_url)
        app = build_app(env)
        migrate(app)
        if args.profile:
            profile(args, app, redis_url, private_pem)
            ok = True
        else:
            threads = args.threads or "gunicorn.conf.py's"
            print(
                f"{os.cpu_count()} CPUs; gunicorn {args.workers} workers x {threads} threads;"
                f" concurrency {args.concurrency}; {args.rq_workers} bench worker(s)"
            )
            ok = run(args, app, env, redis_url, private_pem)
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
