"""Billing-home benchmark: page time under gunicorn with Lago answering at once and 100 ms late.

Run with `make bench-billing` (or `python -m bench.billing_home --help`). It creates a fresh,
migrated PostgreSQL database and claims a free Redis database, serves the Lago stand-in (seeded,
a customer on Pro) in this process and the portal under gunicorn with the project's
gunicorn.conf.py, logs in as the tenant's owner, and views the billing home sequentially, first
with the stand-in answering at once, then with 100 ms of latency on every Lago call. It prints
p50 and p99 page time for both and the Lago calls per view (counted at the stand-in); the aim is
no Lago call while rendering, so the delayed page stays within 1.1x of the undelayed one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time

import httpx

from bench.webhooks import HOST, ROOT, build_app, free_port, fresh_database, migrate, settings
from bench.webhooks import wait_until_ready as wait_for_gunicorn

PASSWORD = secrets.token_urlsafe(16)
OWNER = "owner@bench.example"
CUSTOMER = "bench_acme"
DELAYS_MS = (0, 100)


class LagoCalls:
    """WSGI middleware on the stand-in counting the Lago API requests it receives."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/v1/"):
            with self.lock:
                self.count += 1
        return self.wsgi_app(environ, start_response)


@contextlib.contextmanager
def lago_standin():
    """The stand-in on a free port, seeded with the demo plans; yields (url, standin, calls)."""
    from sandbox.lago import create_app, get_standin
    from sandbox.serving import serve_in_thread

    app = create_app(api_key="bench-lago-key", seed=True)
    calls = LagoCalls(app.wsgi_app)
    app.wsgi_app = calls
    server = serve_in_thread(app)
    standin = get_standin(app)
    standin.configure(public_url=server.url)
    try:
        yield server.url, standin, calls
    finally:
        server.stop()
        standin.close()


def prepare(app, lago_url: str) -> None:
    """Pier connected to the stand-in, the plans imported, and the owner's tenant on Pro."""
    from portal import crypto
    from portal.billing import catalogue, reconcile
    from portal.billing.connection import lago_client
    from portal.extensions import db
    from portal.models import BillingConnection, Membership, Provider, Role, Tenant, User

    lago = httpx.Client(
        base_url=lago_url + "/api/v1",
        headers={"Authorization": "Bearer bench-lago-key"},
        trust_env=False,
    )
    with lago:
        customer = {"external_id": CUSTOMER, "name": "Acme Inc.", "currency": "USD"}
        lago.post("/customers", json={"customer": customer}).raise_for_status()
        subscription = {
            "external_customer_id": CUSTOMER,
            "external_id": f"{CUSTOMER}_subscription",
            "plan_code": "pro",
        }
        lago.post("/subscriptions", json={"subscription": subscription}).raise_for_status()
    with app.app_context():
        db.session.add(
            BillingConnection(
                provider=Provider.lago_self_hosted,
                api_url=lago_url,
                api_key_encrypted=crypto.encrypt("bench-lago-key"),
            )
        )
        tenant = Tenant(name="Acme Inc.", external_id=CUSTOMER, timezone="Europe/Lisbon")
        owner = User(email=OWNER, name="Ada Owner")
        owner.set_password(PASSWORD)
        db.session.add(Membership(user=owner, tenant=tenant, role=Role.owner))
        db.session.commit()
        catalogue.sync_catalogue(lago_client(), import_new=True)
        reconcile.reconcile_tenant(tenant)
        db.session.commit()
        db.engine.dispose()


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int):
    """The portal under gunicorn: the project's gunicorn.conf.py when there is one."""
    if (ROOT / "gunicorn.conf.py").exists():
        env = env | {"PIER_BIND": f"{HOST}:{port}"}
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"]
    else:
        command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"{HOST}:{port}", "app:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env | {"PIER_ACCESS_LOG": ""})
    try:
        wait_for_gunicorn(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(15)


def logged_in(base_url: str) -> httpx.Client:
    """A client holding the owner's session."""
    client = httpx.Client(base_url=base_url, trust_env=False, timeout=30)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = client.post("/login", data={"csrf_token": token, "email": OWNER, "password": PASSWORD})
    if answer.status_code != 303:
        sys.exit(f"Could not log in as the owner: {answer.status_code}")
    return client


def views(client: httpx.Client, count: int) -> list[float]:
    """Milliseconds per billing-home view, sequentially."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        page = client.get("/")
        elapsed = (time.perf_counter() - started) * 1000
        if page.status_code != 200 or 'id="billing-summary"' not in page.text:
            sys.exit(f"The billing home answered {page.status_code} without its summary.")
        times.append(elapsed)
    return times


def one_lago_call(lago_url: str) -> float:
    """Milliseconds of one Lago API call, to show the stand-in's delay is on."""
    started = time.perf_counter()
    httpx.get(
        lago_url + "/api/v1/plans",
        headers={"Authorization": "Bearer bench-lago-key"},
        trust_env=False,
    ).raise_for_status()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=400, help="measured views per delay")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the delays")
    args = parser.parse_args(argv)

    from tests.servers import claimed_redis_database

    with (
        claimed_redis_database() as redis_url,
        fresh_database() as database_url,
        lago_standin() as (lago_url, standin, calls),
    ):
        env = settings(database_url, redis_url) | {"SESSION_COOKIE_SECURE": "0"}
        app = build_app(env)
        migrate(app)
        prepare(app, lago_url)
        port = free_port()
        with gunicorn(env, port):
            client = logged_in(f"http://{HOST}:{port}")
            times: dict[int, list[float]] = {delay: [] for delay in DELAYS_MS}
            lago_ms: dict[int, float] = {}
            counted = dict.fromkeys(DELAYS_MS, 0)
            views(client, args.warmup)
            # Rounds alternate the delays, so a busy moment of the machine hits both alike.
            for _ in range(args.rounds):
                for delay in DELAYS_MS:
                    standin.faults.set(latency_ms=delay)
                    lago_ms[delay] = one_lago_call(lago_url)
                    before = calls.count
                    times[delay] += views(client, args.views // args.rounds)
                    counted[delay] += calls.count - before
            client.close()
            results = {d: (times[d], counted[d] / len(times[d]), lago_ms[d]) for d in DELAYS_MS}
            standin.faults.clear()
    print(f"{os.cpu_count()} CPUs; billing home, {args.views} sequential views per delay")
    for delay, (times, per_view, lago_ms) in results.items():
        print(
            f"  Lago {delay:>3} ms late (one call {lago_ms:5.1f} ms)   "
            f"p50 {percentile(times, 50):6.1f} ms   "
            f"p99 {percentile(times, 99):6.1f} ms   mean {statistics.fmean(times):6.1f} ms   "
            f"Lago calls per view {per_view:.2f}"
        )
    fast, slow = (percentile(results[d][0], 50) for d in DELAYS_MS)
    print(f"  delayed / undelayed p50   {slow / fast:.2f}x (aim: at most 1.10x, 0 Lago calls)")


if __name__ == "__main__":
    main()
