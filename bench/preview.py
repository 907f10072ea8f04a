"""Plan preview benchmark: the preview fragment under gunicorn against the Lago stand-in.

Run with `python -m bench.preview` (`--help` for the knobs). It creates a fresh, migrated
PostgreSQL database and claims a free Redis database, starts the Lago stand-in with a customer
on Pro, serves the portal with gunicorn (the project's gunicorn.conf.py) on loopback, logs an
owner in and asks for the upgrade preview fragment one request at a time, twice:

* on a Lago that previews invoices (premium): Pier asks Lago's preview and explains it;
* on a free Lago: Pier's own estimate, with Lago's refusal remembered after the first request.

Pier reaches Lago through a counting relay on loopback that times every Lago round trip, so
each page's time splits into the Lago calls it waited for and Pier's own time (the relay's own
hop, a fraction of a millisecond, counts as Pier's). Requests run one after another, so every
Lago call belongs to the page being timed. The relay answers in one write without Nagle's
delay: written as headers then body, the body waited for Pier's delayed ACK (up to 40 ms),
which showed as Pier's own time. The gunicorn workers' CPU per request is printed too.

`--profile N` skips gunicorn: it serves N preview requests in this process for each kind of
Lago and prints Pier's CPU per request (this thread's, so neither the stand-in's nor the
relay's), the SQL statements and Redis commands of one request, and a cProfile of this
thread's CPU (Pier's own functions by cumulative time, then everything by own time).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from bench.webhooks import (
    HOST,
    build_app,
    cpu_seconds,
    free_port,
    fresh_database,
    migrate,
    settings,
)
from bench.webhooks import gunicorn as serve_gunicorn

PASSWORD = secrets.token_urlsafe(16)
OWNER = "owner@acme.bench"
CUSTOMER = "pier_acme"
PREVIEW = "/plans/business/preview"
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


# -- The counting relay between Pier and the stand-in ------------------------------------------


@dataclass
class Calls:
    """The Lago round trips seen since the last `take`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        with self.lock:
            self.seconds.append(seconds)

    def take(self) -> list[float]:
        with self.lock:
            found, self.seconds = self.seconds, []
        return found


def relay(target: str, calls: Calls) -> ThreadingHTTPServer:
    """An HTTP relay to `target` that times each round trip (from first byte in to last out)."""
    upstream = httpx.Client(base_url=target, trust_env=False, timeout=30)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer leaves in one write, without Nagle: written as headers then body, the
        # body would wait for the ACK of the headers, which Pier's side delays by up to 40 ms,
        # and that wait would count as Pier's own time.
        disable_nagle_algorithm = True
        wbufsize = 1 << 20

        def _forward(self) -> None:
            began = time.perf_counter()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            answer = upstream.request(self.command, self.path, content=body, headers=headers)
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in HOP_HEADERS | {"content-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)
            self.wfile.flush()
            calls.add(time.perf_counter() - began)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer((HOST, free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# -- Setup: the stand-in, the organisation, the connection -------------------------------------


def start_standin(folder: str):
    from tests.fixtures.lago_standin import start_lago_standin

    return start_lago_standin(
        os.path.join(folder, "lago.sqlite3"), strict=False, validate_responses=False
    )


def prepare(app, lago, relay_url: str) -> None:
    """Acme on Pro in the stand-in and the mirror, Pier connected through the relay."""
    from portal import crypto
    from portal.billing import catalogue, reconcile
    from portal.billing.connection import lago_client
    from portal.extensions import db
    from portal.models import BillingConnection, Membership, Plan, Provider, Role, Tenant, User

    lago.seed()
    with lago.client() as client:
        client.post(
            "/customers",
            json={"customer": {"external_id": CUSTOMER, "name": "Acme", "currency": "USD"}},
        ).raise_for_status()
        client.post(
            "/subscriptions",
            json={
                "subscription": {
                    "external_customer_id": CUSTOMER,
                    "external_id": "acme-main",
                    "plan_code": "pro",
                }
            },
        ).raise_for_status()
    with app.app_context():
        tenant = Tenant(name="Acme", external_id=CUSTOMER, timezone="Europe/Lisbon")
        owner = User(email=OWNER, name="Owner")
        owner.set_password(PASSWORD)
        db.session.add_all([tenant, owner, Membership(user=owner, tenant=tenant, role=Role.owner)])
        db.session.add(
            BillingConnection(
                provider=Provider.lago_self_hosted,
                api_url=relay_url,
                api_key_encrypted=crypto.encrypt(lago.api_key),
            )
        )
        db.session.commit()
        catalogue.sync_catalogue(lago_client(), import_new=True)
        plans = {p.code: p for p in db.session.scalars(db.select(Plan))}
        plans["pro"].switch_targets = [plans["business"], plans["starter"]]
        reconcile.reconcile_tenant(tenant)
        db.session.commit()
        db.engine.dispose()


def log_in(base: str):
    return signed_in(httpx.Client(base_url=base, trust_env=False, timeout=30))


def signed_in(client):
    """Log the owner in through the login form (an httpx client or Flask's test client)."""
    page = client.get("/login")
    text = page.text if hasattr(page, "text") else page.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    if token is None:
        sys.exit("the login page has no CSRF token")
    done = client.post(
        "/login", data={"csrf_token": token.group(1), "email": OWNER, "password": PASSWORD}
    )
    if client.get("/plans/").status_code != 200:
        sys.exit(f"could not log in ({done.status_code}) or open the plans")
    return client


# -- The run -------------------------------------------------------------------------------------


@dataclass
class Sample:
    total: float
    lago: list[float]


def measure(client: httpx.Client, calls: Calls, count: int, source: str) -> list[Sample]:
    headers = {"HX-Request": "true", "HX-Target": "plan-preview"}
    samples = []
    for _ in range(count):
        calls.take()
        began = time.perf_counter()
        answer = client.get(PREVIEW, headers=headers)
        total = time.perf_counter() - began
        if answer.status_code != 200 or f'data-source="{source}"' not in answer.text:
            sys.exit(f"unexpected preview ({answer.status_code}): {answer.text[:300]}")
        samples.append(Sample(total, calls.take()))
    return samples


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


def report(title: str, samples: list[Sample], cpu: float) -> None:
    own = [s.total - sum(s.lago) for s in samples]
    lago = [sum(s.lago) for s in samples]
    totals = [s.total for s in samples]
    counts = [len(s.lago) for s in samples]
    print(f"\n{title} ({len(samples)} requests, one at a time)")
    rows = [
        ("page time p50 / p99", f"{percentile(totals, 50):.1f} / {percentile(totals, 99):.1f} ms"),
        (
            "Lago round trips p50 / p99",
            f"{percentile(lago, 50):.1f} / {percentile(lago, 99):.1f} ms",
        ),
        ("Pier's own time p50 / p99", f"{percentile(own, 50):.1f} / {percentile(own, 99):.1f} ms"),
        ("Lago calls per request", f"{statistics.mean(counts):.2f} (max {max(counts)})"),
        ("gunicorn CPU per request", f"{cpu / len(samples) * 1000:.1f} ms"),
    ]
    for name, value in rows:
        print(f"  {name:<28} {value}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per Lago kind")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead of timing under gunicorn, profile N preview requests in this process "
        "(cProfile) for each Lago kind and print where Pier's time goes",
    )
    args = parser.parse_args(argv)
    args.worker_class = "gthread" if args.threads > 1 else "sync"

    from tests.servers import claimed_redis_database

    calls = Calls()
    with (
        tempfile.TemporaryDirectory() as folder,
        claimed_redis_database() as redis_url,
        fresh_database() as database_url,
    ):
        lago = start_standin(folder)
        hop = relay(lago.api_url.rsplit("/api/v1", 1)[0], calls)
        # Plain HTTP on loopback: the session cookie may not be marked Secure here.
        env = settings(database_url, redis_url) | {"SESSION_COOKIE_SECURE": "false"}
        app = build_app(env)
        try:
            migrate(app)
            prepare(app, lago, f"http://{HOST}:{hop.server_address[1]}")
            if args.profile:
                profile(app, lago, args.profile)
            else:
                run(args, env, lago, calls)
        finally:
            hop.shutdown()
            lago.close()
            with app.app_context():
                from portal.extensions import db

                db.engine.dispose()


def run(args: argparse.Namespace, env: dict[str, str], lago, calls: Calls) -> None:
    port = free_port()
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; gunicorn {args.workers}"
        f" {args.worker_class} workers x {args.threads} threads; stand-in and relay in this process"
    )
    lago.standin.configure(premium=True)
    with (
        serve_gunicorn("app:app", env, port, args) as server,
        contextlib.closing(log_in(f"http://{HOST}:{port}")) as client,
    ):

        def timed(title: str, source: str) -> None:
            before = cpu_seconds(server)
            samples = measure(client, calls, args.requests, source)
            report(title, samples, cpu_seconds(server) - before)

        measure(client, calls, args.warmup, "lago")
        timed("Lago's preview (premium Lago)", "lago")
        lago.standin.configure(premium=False)
        first = measure(client, calls, 1, "estimate")[0]
        print(f"\nfree Lago, first request: {len(first.lago)} Lago call(s), refused")
        timed("Pier's estimate (free Lago, refusal remembered)", "estimate")


def queries(app, request) -> tuple[list[str], list[str]]:
    """The SQL statements and the Redis commands Pier sends while serving `request()`."""
    import redis
    import sqlalchemy as sa

    from portal.extensions import db

    seen: list[str] = []
    commands: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    send = redis.Redis.execute_command
    pipe = redis.client.Pipeline.execute

    def command(self, *args, **options):
        commands.append(" ".join(str(a) for a in args[:2]))
        return send(self, *args, **options)

    def pipeline(self, *args, **options):
        commands.append("pipeline: " + ", ".join(str(c[0][0]) for c in self.command_stack))
        return pipe(self, *args, **options)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    redis.Redis.execute_command = command
    redis.client.Pipeline.execute = pipeline
    try:
        request()
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
        redis.Redis.execute_command = send
        redis.client.Pipeline.execute = pipe
    return seen, commands


def profile(app, lago, count: int) -> None:
    """Where Pier's time goes in the preview view, for each kind of Lago: `count` requests
    served in this process (Flask's test client, Lago through the relay) timed by the CPU of
    this thread, then `count` more under cProfile counting this thread's CPU."""
    import cProfile
    import pstats

    client = signed_in(app.test_client())
    headers = {"HX-Request": "true", "HX-Target": "plan-preview"}
    for premium, source in ((True, "lago"), (False, "estimate")):
        lago.standin.configure(premium=premium)
        for _ in range(10):
            client.get(PREVIEW, headers=headers)
        cpu = time.thread_time()
        for _ in range(count):
            client.get(PREVIEW, headers=headers)
        cpu = (time.thread_time() - cpu) / count * 1000
        # Pier's CPU only: the stand-in and the relay run in other threads of this process.
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        for _ in range(count):
            answer = client.get(PREVIEW, headers=headers)
            if f'data-source="{source}"' not in answer.get_data(as_text=True):
                sys.exit(f"unexpected preview ({answer.status_code})")
        profiler.disable()
        print(f"\n== {source}: Pier's CPU per request {cpu:.2f} ms (this thread, not profiled)")
        statements, commands = queries(app, lambda: client.get(PREVIEW, headers=headers))
        print(f"{len(statements)} SQL statements per request:")
        for statement in statements:
            print("  ", " ".join(statement.split())[:160])
        print(f"{len(commands)} Redis commands per request:")
        for command in commands:
            print("  ", command)
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(r"/(portal|templates)/", 40)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
