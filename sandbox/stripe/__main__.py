"""Serve the stand-in: python -m sandbox.stripe --port 12111 --api-key K --webhook-secret S."""

from __future__ import annotations

import argparse
import sys

from ..common.cli import add_webhook_options, base_parser, serve, shared_settings
from . import create_app, get_standin
from .config import API_VERSION, DEFAULT_API_KEY, DEFAULT_PUBLISHABLE_KEY


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = base_parser(
        "python -m sandbox.stripe",
        __doc__,
        port=12111,
        api_key=DEFAULT_API_KEY,
        api_key_help="the secret key (sk_test_...)",
    )
    parser.add_argument("--publishable-key", default=DEFAULT_PUBLISHABLE_KEY)
    parser.add_argument("--webhook-secret", help="signing secret (whsec_...) for new endpoints")
    parser.add_argument("--webhook-url", help="register an endpoint for all events at this URL")
    parser.add_argument("--api-version", default=API_VERSION, help="the account's API version")
    parser.add_argument("--public-url", help="base URL browsers use (default: http://host:port)")
    add_webhook_options(parser, timeout=10.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in until interrupted."""
    args = parse_args(argv)
    app = create_app(
        **shared_settings(args),
        publishable_key=args.publishable_key,
        webhook_secret=args.webhook_secret,
        webhook_url=args.webhook_url,
        api_version=args.api_version,
    )

    def banner(url: str) -> list[str]:
        return [
            f"Stripe stand-in listening on {url} (API: {url}/v1)",
            f"API key: {args.api_key}",
            f"Publishable key: {args.publishable_key}",
            f"Control API: {url}/_sandbox",
        ]

    return serve(app, get_standin(app), args, banner)


if __name__ == "__main__":
    sys.exit(main())
