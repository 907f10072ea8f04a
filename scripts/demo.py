"""Run the demo: migrate and seed a SQLite database, start the portal and the stand-ins.

Everything started here stops on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
PORTAL_PORT = int(os.environ.get("PIER_DEMO_PORT", "5000"))
LAGO_PORT = int(os.environ.get("PIER_DEMO_LAGO_PORT", "3000"))
LAGO_API_KEY = "demo-lago-api-key"  # noqa: S105 - the stand-in's demo key
STRIPE_PORT = int(os.environ.get("PIER_DEMO_STRIPE_PORT", "12111"))
STRIPE_URL = f"http://127.0.0.1:{STRIPE_PORT}"
# The Stripe stand-in's test-mode keys; Pier's and Lago's webhook signing secrets there.
STRIPE_SECRET_KEY = "sk_test_pier_demo_0000000000000000"  # noqa: S105
STRIPE_PUBLISHABLE_KEY = "pk_test_pier_demo_0000000000000000"
PIER_STRIPE_WEBHOOK_SECRET = "whsec_pier_demo_signing_secret"  # noqa: S105
LAGO_STRIPE_WEBHOOK_SECRET = "whsec_lago_demo_signing_secret"  # noqa: S105
TEST_CARDS = """Test cards (any future expiry, any CVC):
  4242 4242 4242 4242  saved; payments succeed
  4000 0025 0000 3155  3-D Secure when saved, then payments succeed
  4000 0000 0000 3220  3-D Secure when saved, and every payment asks for it again
  4000 0000 0000 0341  saved, every payment is declined (try the fix-it flow)
  4000 0000 0000 9995  declined: insufficient funds
  4000 0084 0000 1629  3-D Secure, then declined"""


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def wait_for(port: int, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            sys.exit(f"{name} did not start on port {port}; see the output above.")
        time.sleep(0.1)


def redis_url(children: list[subprocess.Popen]) -> str:
    """The running Redis, or one started for the demo."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if port_open(6379) or "REDIS_URL" in os.environ:
        return url
    binary = shutil.which("redis-server")
    if binary is None:
        print("Redis is not running and redis-server is not installed: rate limits stay in memory.")
        return url
    port = 6390
    children.append(
        subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
    )
    wait_for(port, "Redis")
    return f"redis://127.0.0.1:{port}/0"


def register_lago_with_stripe() -> None:
    """Lago's Stripe integration receives Stripe's events at its own URL, as Lago registers it
    (`/webhooks/stripe/{organization id}`), signed with its own secret."""
    with urllib.request.urlopen(f"http://127.0.0.1:{LAGO_PORT}/_sandbox") as answer:  # noqa: S310
        organization = json.load(answer)["organization"]["lago_id"]
    endpoint = {
        "url": f"http://127.0.0.1:{LAGO_PORT}/webhooks/stripe/{organization}?code=stripe",
        "secret": LAGO_STRIPE_WEBHOOK_SECRET,
        "enabled_events": ["setup_intent.succeeded", "customer.updated", "payment_method.detached"],
    }
    listed = f"{STRIPE_URL}/_sandbox/webhook_endpoints"
    with urllib.request.urlopen(listed) as answer:  # noqa: S310
        if any(e["url"] == endpoint["url"] for e in json.load(answer)["webhook_endpoints"]):
            return
    request = urllib.request.Request(  # noqa: S310 - the stand-in on loopback
        listed,
        data=json.dumps(endpoint).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request).close()  # noqa: S310


def main() -> None:
    INSTANCE.mkdir(exist_ok=True)
    children: list[subprocess.Popen] = []
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{INSTANCE / 'demo.sqlite3'}")
    env.setdefault("MAIL_URL", "file://instance/mail")
    env.setdefault("PIER_BASE_URL", f"http://127.0.0.1:{PORTAL_PORT}")
    env["REDIS_URL"] = redis_url(children)
    env.setdefault("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY)
    env.setdefault("STRIPE_PUBLISHABLE_KEY", STRIPE_PUBLISHABLE_KEY)
    env.setdefault("STRIPE_API_BASE", STRIPE_URL)
    env.setdefault("STRIPE_JS_URL", f"{STRIPE_URL}/v3/")
    env.setdefault("STRIPE_WEBHOOK_SECRETS", PIER_STRIPE_WEBHOOK_SECRET)
    flask = [sys.executable, "-m", "flask", "--app", "app"]

    def stop(*_):
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
        print("\nStopped.")
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    logins = subprocess.run(
        [*flask, "demo", "seed"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout

    children.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox.lago",
                "--host",
                "127.0.0.1",
                "--port",
                str(LAGO_PORT),
                "--db",
                str(INSTANCE / "lago-standin.sqlite3"),
                "--api-key",
                LAGO_API_KEY,
                "--seed",
                "--stripe-api-url",
                STRIPE_URL,
                "--stripe-secret-key",
                STRIPE_SECRET_KEY,
                "--stripe-webhook-secret",
                LAGO_STRIPE_WEBHOOK_SECRET,
            ],
            cwd=ROOT,
            env=env,
        )
    )
    children.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox.stripe",
                "--host",
                "127.0.0.1",
                "--port",
                str(STRIPE_PORT),
                "--db",
                str(INSTANCE / "stripe-standin.sqlite3"),
                "--api-key",
                STRIPE_SECRET_KEY,
                "--publishable-key",
                STRIPE_PUBLISHABLE_KEY,
                "--webhook-secret",
                PIER_STRIPE_WEBHOOK_SECRET,
                "--webhook-url",
                f"{env['PIER_BASE_URL']}/webhooks/stripe",
                "--public-url",
                STRIPE_URL,
            ],
            cwd=ROOT,
            env=env,
        )
    )
    wait_for(LAGO_PORT, "The Lago stand-in")
    wait_for(STRIPE_PORT, "The Stripe stand-in")
    register_lago_with_stripe()
    connected = os.environ.get("PIER_DEMO_CONNECT", "1") != "0"
    if connected:
        lago_url = f"http://127.0.0.1:{LAGO_PORT}"
        subprocess.run(
            [*flask, "lago", "connect", "--url", lago_url, "--api-key", LAGO_API_KEY],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        for command in ("import-plans", "register-webhook", "sync-customers"):
            subprocess.run(
                [*flask, "lago", command], cwd=ROOT, env=env, check=True, capture_output=True
            )
    children.append(subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env))
    children.append(
        subprocess.Popen(
            [*flask, "run", "--host", "127.0.0.1", "--port", str(PORTAL_PORT), "--no-reload"],
            cwd=ROOT,
            env=env,
        )
    )
    wait_for(PORTAL_PORT, "The portal")

    print("\n" + "=" * 72)
    print(f"Pier is running at http://127.0.0.1:{PORTAL_PORT}")
    print("Logins:")
    print(logins.rstrip())
    print(f"Lago stand-in:  http://127.0.0.1:{LAGO_PORT}   API key: {LAGO_API_KEY}")
    print(f"Stripe stand-in: {STRIPE_URL}   secret key: {STRIPE_SECRET_KEY}")
    print("Cards: log in as the owner and open Cards › Add a card.")
    print(TEST_CARDS)
    print("A worker runs the background jobs. Emails are written to instance/mail/.")
    if connected:
        print("Billing is connected to the Lago stand-in: plans imported, webhooks registered.")
    else:
        print(
            "Connect Lago as the admin in Settings › Billing with the stand-in's URL and key above."
        )
    print("Press Ctrl-C to stop everything.")
    print("=" * 72 + "\n")
    while True:
        for child in children:
            if child.poll() is not None:
                print(f"A demo process stopped (exit {child.returncode}); stopping the rest.")
                stop()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
