"""The container's health check: `python -m portal.health.probe` asks the gunicorn in this
container for /healthz on its PIER_BIND address and exits 0 only on a 200 with status "ok".

It checks liveness, not readiness: /readyz also reports Lago, and a Lago outage must not mark
Pier unhealthy (pages keep rendering from the mirror while Lago is down).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # noqa: S104 - not a bind


def healthz_url(bind: str) -> str:
    """The /healthz URL on this host for gunicorn's first `bind` address (`host:port`)."""
    first = bind.split(",")[0].strip()
    if first.startswith(("unix:", "fd://")):
        raise ValueError(f"PIER_BIND {bind!r} is not a TCP address this check can reach.")
    host, separator, port = first.rpartition(":")
    if not separator or not port.isdigit():
        raise ValueError(f"PIER_BIND {bind!r} is not host:port.")
    host = host.strip("[]")
    host = WILDCARDS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def probe(url: str, timeout: float = 3.0) -> str | None:
    """None when Pier answers healthy, else what went wrong."""
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for loopback
    try:
        with direct.open(url, timeout=timeout) as response:
            body = json.loads(response.read(4096))
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url}: {exc}"
    if not isinstance(body, dict) or body.get("status") != "ok":
        return f"{url} answered {body!r}"
    return None


def main() -> int:
    try:
        url = healthz_url(os.environ.get("PIER_BIND", "127.0.0.1:8000"))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    problem = probe(url)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
