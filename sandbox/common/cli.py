"""Command-line plumbing for `python -m sandbox.<stand-in>`: shared options and serving."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.serving import make_server


def base_parser(
    prog: str, description: str | None, *, port: int, api_key: str, api_key_help: str | None = None
) -> argparse.ArgumentParser:
    """A parser with --host, --port, --db and --api-key."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port, help="0 picks a free port")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--api-key", default=api_key, help=api_key_help)
    return parser


def add_webhook_options(parser: argparse.ArgumentParser, *, timeout: float) -> None:
    """Add --webhook-retry-scale and --webhook-timeout."""
    parser.add_argument("--webhook-retry-scale", type=float, default=1.0)
    parser.add_argument("--webhook-timeout", type=float, default=timeout)


def shared_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The create_app settings both stand-ins take from the shared options."""
    return {
        "db_path": args.db,
        "api_key": args.api_key,
        "webhook_retry_scale": args.webhook_retry_scale,
        "webhook_timeout": args.webhook_timeout,
    }


def serve(
    app: Flask, standin: Any, args: argparse.Namespace, banner: Callable[[str], list[str]]
) -> int:
    """Serve `app` on --host/--port until interrupted, printing `banner(url)` once listening."""
    server = make_server(args.host, args.port, app, threaded=True)
    shown_host = "localhost" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    url = args.public_url or f"http://{shown_host}:{server.server_port}"
    standin.configure(public_url=url)
    for line in banner(url):
        print(line, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        standin.close()
    return 0
