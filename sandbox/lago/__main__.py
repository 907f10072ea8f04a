"""Serve the stand-in: python -m sandbox.lago --host 127.0.0.1 --port 3000 --db F --api-key K.

`python -m sandbox.lago clock ...` moves the clock of a running stand-in (see clock_cli).
"""

from __future__ import annotations

import argparse
import sys

from ..common.cli import add_webhook_options, base_parser, serve, shared_settings
from . import create_app, get_standin
from .clock import parse_iso
from .state import DEFAULT_API_KEY


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = base_parser("python -m sandbox.lago", __doc__, port=3000, api_key=DEFAULT_API_KEY)
    parser.add_argument("--org-name", default="Pier Sandbox")
    parser.add_argument("--seed", action="store_true", help="add the demo metrics and plans")
    parser.add_argument("--strict", action="store_true", help="answer 400 to off-spec requests")
    parser.add_argument("--validate-responses", action="store_true")
    parser.add_argument("--premium", action="store_true", help="behave like a licensed Lago")
    parser.add_argument(
        "--premium-integrations",
        default="preview",
        help="comma-separated organization integrations (default: preview; '' for none)",
    )
    parser.add_argument("--public-url", help="base URL clients use (default: http://host:port)")
    parser.add_argument("--jwt-issuer", help="webhook JWT `iss` (default: the public URL)")
    parser.add_argument(
        "--clock-start", type=parse_iso, help="start the clock at this ISO 8601 instant"
    )
    parser.add_argument("--stripe-api-url", help="the Stripe (stand-in) Lago's integration uses")
    parser.add_argument("--stripe-secret-key", help="the secret key of Lago's Stripe integration")
    parser.add_argument(
        "--stripe-webhook-secret", help="signs Stripe's webhooks to /webhooks/stripe/{org id}"
    )
    add_webhook_options(parser, timeout=30.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in until interrupted (or move a running one's clock)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["clock"]:
        from .clock_cli import main as clock_main

        return clock_main(argv[1:])
    args = parse_args(argv)
    app = create_app(
        **shared_settings(args),
        org_name=args.org_name,
        seed=args.seed,
        strict=args.strict,
        validate_responses=args.validate_responses,
        premium=args.premium,
        premium_integrations=[n for n in args.premium_integrations.split(",") if n.strip()],
        jwt_issuer=args.jwt_issuer,
        clock_start=args.clock_start,
        stripe_api_url=args.stripe_api_url,
        stripe_secret_key=args.stripe_secret_key,
        stripe_webhook_secret=args.stripe_webhook_secret,
    )
    standin = get_standin(app)

    def banner(url: str) -> list[str]:
        return [
            f"Lago stand-in listening on {url} (API: {url}/api/v1)",
            f"API key: {standin.org()['api_key']}",
            f"Control API: {url}/_sandbox",
            f"Stripe webhooks: {url}/webhooks/stripe/{standin.org()['id']}?code=stripe",
        ]

    return serve(app, standin, args, banner)


if __name__ == "__main__":
    sys.exit(main())
