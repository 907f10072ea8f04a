"""Invoice centre benchmark: list page time by invoice count, PDF proxy memory by PDF size.

Run with `python -m bench.invoices` (`--help` for the options). On a fresh, migrated
PostgreSQL database it gives one tenant 10, then 10,000 mirrored invoices and times the
invoice list (first page, a page deep in the list, and a search by number) through the whole
Flask stack. Then it serves the portal with gunicorn (one sync worker) in front of the Lago
stand-in, has Lago make a 1 MB and a 50 MB invoice PDF, downloads each through Pier as a
customer does (ask, wait while "Generating…", then stream the file), and prints the serving
worker's peak resident memory (VmHWM) after each: flat means the PDF is never held whole.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from bench.webhooks import HOST, ROOT, build_app, free_port, fresh_database, migrate, settings

PASSWORD = "bench passphrase 1"  # noqa: S105 (a throwaway account on a throwaway database)
LAGO_KEY = "bench-lago-key"


# -- Tenant and invoices -------------------------------------------------------------------------


def make_tenant(app) -> tuple[int, str]:
    """One tenant with an owner; returns (tenant id, owner email)."""
    from portal.extensions import db
    from portal.models import Membership, Role, Tenant, User

    with app.app_context():
        tenant = Tenant(name="Bench Ltd", external_id="bench_ltd", currency="EUR")
        user = User(email="owner@bench.test", name="Owner")
        user.set_password(PASSWORD)
        db.session.add_all([tenant, Membership(user=user, tenant=tenant, role=Role.owner)])
        db.session.commit()
        return tenant.id, user.email


def fill_invoices(app, tenant_id: int, count: int) -> None:
    """`count` mirrored invoices over the past years, several a day, mixed statuses."""
    from portal.extensions import db
    from portal.models import InvoiceMirror

    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        issued = start + timedelta(days=n // 4)
        rows.append(
            {
                "tenant_id": tenant_id,
                "lago_id": f"bench-{tenant_id}-{n:06d}",
                "number": f"BEN-{n:06d}",
                "invoice_type": "subscription",
                "status": "voided" if n % 97 == 0 else "finalized",
                "payment_status": "succeeded" if n % 5 else "pending",
                "payment_overdue": n % 11 == 0,
                "currency": "EUR",
                "total_amount_cents": 1000 + (n * 37) % 50000,
                "taxes_amount_cents": 0,
                "file_available": False,
                "issuing_date": issued,
                "source_at": issued,
                "created_at": issued,
                "updated_at": issued,
            }
        )
    with app.app_context():
        db.session.execute(sa.delete(InvoiceMirror).where(InvoiceMirror.tenant_id == tenant_id))
        for at in range(0, len(rows), 2000):
            db.session.execute(sa.insert(InvoiceMirror), rows[at : at + 2000])
        db.session.commit()
        db.session.execute(sa.text("ANALYZE invoices"))
        db.session.commit()


def log_in_test_client(app, email: str):
    """A Flask test client signed in as the user, the way the tests sign people in."""
    from types import SimpleNamespace

    from portal.extensions import db
    from portal.models import User
    from tests.conftest import log_in

    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).filter_by(email=email))
    return log_in(app.test_client(), SimpleNamespace(id=user_id))


def timed(client, url: str, repeat: int) -> tuple[float, int]:
    """Median milliseconds of `repeat` GETs of the url (after one warm-up), and rows shown."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), first.get_data(as_text=True).count("data-invoice=")


def bench_list(app, tenant_id: int, email: str, counts: list[int], repeat: int) -> None:
    client = log_in_test_client(app, email)
    print(f"Invoice list (median of {repeat}, one tenant, PostgreSQL, in-process Flask):")
    for count in counts:
        fill_invoices(app, tenant_id, count)
        middle = f"{(datetime(2020, 1, 1) + timedelta(days=count // 8)).date()}.999999999"
        pages = {
            "first page": "/invoices/",
            "a page deep in the list": f"/invoices/?after={middle}",
            "search by number": "/invoices/?number=0004",
            "status and amount filter": "/invoices/?status=open&amount_from=100",
        }
        for label, url in pages.items():
            ms, shown = timed(client, url, repeat)
            print(f"  {count:>6} invoices, {label:<26} {ms:7.1f} ms ({shown} rows)")


# -- PDF proxy memory --------------------------------------------------------------------------


@contextlib.contextmanager
def process(command: list[str], env: dict[str, str], ready_url: str):
    """A server subprocess, up once `ready_url` answers, stopped afterwards."""
    quiet = subprocess.DEVNULL
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=quiet, stderr=quiet)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(ready_url, timeout=1, trust_env=False)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"{command[2]} did not start") from None
                time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=10)


def worker_pids(master: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True, check=False
    ).stdout
    return [int(pid) for pid in found.split()]


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def csrf(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def lago_invoice(lago: httpx.Client, customer: str) -> str:
    """A customer with a Pro subscription: its first invoice's Lago id."""
    body = {"customer": {"external_id": customer, "name": customer, "currency": "USD"}}
    lago.post("/api/v1/customers", json=body).raise_for_status()
    subscription = {"external_customer_id": customer, "plan_code": "pro", "external_id": customer}
    lago.post("/api/v1/subscriptions", json={"subscription": subscription}).raise_for_status()
    found = lago.get("/api/v1/invoices", params={"external_customer_id": customer}).json()
    return found["invoices"][0]["lago_id"]


def download_through_pier(pier: httpx.Client, lago_id: str) -> int:
    """Ask, wait while Lago generates, then stream the file; returns the bytes received."""
    page = pier.get(f"/invoices/{lago_id}").text
    answer = pier.post(f"/invoices/{lago_id}/download", data={"csrf_token": csrf(page)})
    for n in range(600):
        if answer.status_code == 303 and answer.headers["location"].endswith("/pdf"):
            break
        answer = pier.get(f"/invoices/{lago_id}/pdf-status?n={n}")
        if "Your PDF is ready" in answer.text:
            break
        time.sleep(0.2)
    received = 0
    with pier.stream("GET", f"/invoices/{lago_id}/pdf") as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(256 * 1024):
            received += len(chunk)
    return received


def bench_pdf(app, env: dict[str, str], tenant_id: int, email: str, sizes: list[int]) -> None:
    from portal import crypto
    from portal.billing import reconcile
    from portal.extensions import db
    from portal.models import BillingConnection, Provider, Tenant

    lago_port, pier_port = free_port(), free_port()
    lago_url = f"http://{HOST}:{lago_port}"
    standin = [sys.executable, "-m", "sandbox.lago", "--host", HOST, "--port", str(lago_port)]
    standin += ["--api-key", LAGO_KEY, "--seed"]
    # plain HTTP on loopback: the session cookie may travel without TLS
    server_env = env | {
        "PIER_PDF_CACHE_BYTES": str(200 * 1024 * 1024),
        "SESSION_COOKIE_SECURE": "0",
    }
    pier_cmd = [sys.executable, "-m", "gunicorn", "--workers", "1", "--timeout", "120"]
    pier_cmd += ["--bind", f"{HOST}:{pier_port}", "app:app"]
    with process(standin, env, f"{lago_url}/health"):
        lago = httpx.Client(
            base_url=lago_url, headers={"Authorization": f"Bearer {LAGO_KEY}"}, trust_env=False
        )
        lago.put("/_sandbox/config", json={"generate_pdfs": False}).raise_for_status()
        with app.app_context():
            db.session.execute(sa.delete(BillingConnection))
            db.session.add(
                BillingConnection(
                    provider=Provider.lago_self_hosted,
                    api_url=lago_url,
                    api_key_encrypted=crypto.encrypt(LAGO_KEY),
                )
            )
            tenant = db.session.get(Tenant, tenant_id)
            tenant.external_id = "bench_pdf"
            db.session.commit()
        lago_invoice(lago, "bench_pdf")
        with app.app_context():
            reconcile.reconcile_tenant(db.session.get(Tenant, tenant_id))
            db.session.commit()
        with process(pier_cmd, server_env, f"http://{HOST}:{pier_port}/healthz") as pier_server:
            [worker] = worker_pids(pier_server.pid)
            pier = httpx.Client(base_url=f"http://{HOST}:{pier_port}", trust_env=False)
            login = pier.get("/login").text
            pier.post(
                "/login",
                data={"csrf_token": csrf(login), "email": email, "password": PASSWORD},
            )
            pier.get("/invoices/")
            print("PDF proxy, peak resident memory of the serving gunicorn worker (VmHWM):")
            print(f"  after serving pages only          {peak_rss_mb(worker):7.1f} MB")
            for size in sizes:
                lago.put("/_sandbox/config", json={"pdf_bytes": size}).raise_for_status()
                customer = f"bench_pdf_{size}"
                lago_id = lago_invoice(lago, customer)
                with app.app_context():
                    owner = db.session.get(Tenant, tenant_id)
                    owner.external_id = customer
                    reconcile.reconcile_tenant(owner)
                    db.session.commit()
                began = time.perf_counter()
                received = download_through_pier(pier, lago_id)
                took = time.perf_counter() - began
                print(
                    f"  after a {received / 1e6:5.1f} MB PDF (ask, generate, fetch,"
                    f" stream in {took:4.1f} s) {peak_rss_mb(worker):7.1f} MB"
                )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10,10000", help="invoice counts to time")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--pdf-sizes", default="1000000,50000000", help="PDF sizes in bytes")
    args = parser.parse_args(argv)
    from tests.servers import claimed_redis_database

    with claimed_redis_database() as redis_url, fresh_database() as database_url:
        env = settings(database_url, redis_url)
        app = build_app(env)
        migrate(app)
        tenant_id, email = make_tenant(app)
        bench_list(app, tenant_id, email, [int(c) for c in args.counts.split(",")], args.repeat)
        fill_invoices(app, tenant_id, 0)
        bench_pdf(app, env, tenant_id, email, [int(s) for s in args.pdf_sizes.split(",")])
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()


if __name__ == "__main__":
    main()
