"""Serve the stand-in: python -m sandbox.stripe --port 12111 --api-key K --webhook-secret S."""

from __future__ import annotations

import argparse
import sys

from werkzeug.serving import make_server

from . import create_app, get_standin
from .config import API_VERSION, DEFAULT_API_KEY, DEFAULT_PUBLISHABLE_KEY


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.stripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the secret key (sk_test_...)")
    parser.add_argument("--publishable-key", default=DEFAULT_PUBLISHABLE_KEY)
    parser.add_argument("--webhook-secret", help="signing secret (whsec_...) for new endpoints")
    parser.add_argument("--webhook-url", help="register an endpoint for all events at this URL")
    parser.add_argument("--api-version", default=API_VERSION, help="the account's API version")
    parser.add_argument("--public-url", help="base URL browsers use (default: http://host:port)")
    parser.add_argument("--webhook-retry-scale", type=float, default=1.0)
    parser.add_argument("--webhook-timeout", type=float, default=10.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in until interrupted."""
    args = parse_args(argv)
    app = create_app(
        db_path=args.db,
        api_key=args.api_key,
        publishable_key=args.publishable_key,
        webhook_secret=args.webhook_secret,
        webhook_url=args.webhook_url,
        api_version=args.api_version,
        webhook_retry_scale=args.webhook_retry_scale,
        webhook_timeout=args.webhook_timeout,
    )
    standin = get_standin(app)
    server = make_server(args.host, args.port, app, threaded=True)
    shown_host = "localhost" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    url = args.public_url or f"http://{shown_host}:{server.server_port}"
    standin.configure(public_url=url)
    print(f"Stripe stand-in listening on {url} (API: {url}/v1)", flush=True)
    print(f"API key: {args.api_key}", flush=True)
    print(f"Publishable key: {args.publishable_key}", flush=True)
    print(f"Control API: {url}/_sandbox", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        standin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
