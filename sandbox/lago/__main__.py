"""Serve the stand-in: python -m sandbox.lago --host 127.0.0.1 --port 3000 --db F --api-key K."""

from __future__ import annotations

import argparse
import sys

from werkzeug.serving import make_server

from . import create_app, get_standin
from .state import DEFAULT_API_KEY


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.lago", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="0 picks a free port")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--org-name", default="Pier Sandbox")
    parser.add_argument("--seed", action="store_true", help="add the demo metrics and plans")
    parser.add_argument("--strict", action="store_true", help="answer 400 to off-spec requests")
    parser.add_argument("--validate-responses", action="store_true")
    parser.add_argument("--premium", action="store_true", help="behave like a licensed Lago")
    parser.add_argument("--public-url", help="base URL clients use (default: http://host:port)")
    parser.add_argument("--jwt-issuer", help="webhook JWT `iss` (default: the public URL)")
    parser.add_argument("--webhook-retry-scale", type=float, default=1.0)
    parser.add_argument("--webhook-timeout", type=float, default=30.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in until interrupted."""
    args = parse_args(argv)
    app = create_app(
        db_path=args.db,
        api_key=args.api_key,
        org_name=args.org_name,
        seed=args.seed,
        strict=args.strict,
        validate_responses=args.validate_responses,
        premium=args.premium,
        jwt_issuer=args.jwt_issuer,
        webhook_retry_scale=args.webhook_retry_scale,
        webhook_timeout=args.webhook_timeout,
    )
    standin = get_standin(app)
    server = make_server(args.host, args.port, app, threaded=True)
    shown_host = "localhost" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    url = args.public_url or f"http://{shown_host}:{server.server_port}"
    standin.configure(public_url=url)
    print(f"Lago stand-in listening on {url} (API: {url}/api/v1)", flush=True)
    print(f"API key: {standin.org()['api_key']}", flush=True)
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
