"""Move a running stand-in's clock: python -m sandbox.lago clock {show,advance,travel,reset}.

Moving forward runs lago-api's clock jobs that fall due on the way (period ends bill, pending
downgrades apply, trials end, ending subscriptions terminate, invoices become overdue), each
sending the webhooks Lago sends; the command prints the new time and what ran.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:3000"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.lago clock", description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the stand-in (default {DEFAULT_URL})")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("show", help="print the stand-in's now")
    advance = actions.add_parser("advance", help="move forward by a duration")
    for unit in ("days", "hours", "minutes", "seconds"):
        advance.add_argument(f"--{unit}", type=float, default=0.0)
    travel = actions.add_parser("travel", help="move to a moment (ISO 8601 with a zone)")
    travel.add_argument("moment", help="e.g. 2030-02-01T00:00:00Z")
    for moving in (advance, travel):
        moving.add_argument(
            "--no-run", action="store_true", help="only move the clock; run no clock job"
        )
    actions.add_parser("reset", help="back to real time")
    return parser.parse_args(argv)


def request_body(args: argparse.Namespace) -> dict[str, Any] | None:
    """The control API body for the action (None for `show`)."""
    if args.action == "show":
        return None
    if args.action == "reset":
        return {"reset": True}
    if args.action == "advance":
        seconds = args.days * 86400 + args.hours * 3600 + args.minutes * 60 + args.seconds
        body: dict[str, Any] = {"advance_seconds": seconds}
    else:
        body = {"travel_to": args.moment}
    if args.no_run:
        body["run"] = False
    return body


def describe(record: dict[str, Any]) -> str:
    """One line per job run: when, which job, and the objects it touched."""
    objects = ", ".join(f"{k} {v}" for k, v in record.items() if k not in ("at", "job"))
    return f"{record['at']}  {record['job']}" + (f"  ({objects})" if objects else "")


def main(argv: list[str]) -> int:
    """Run one clock command; exit 1 with the reason when the stand-in refuses or is away."""
    args = parse_args(argv)
    body = request_body(args)
    url = args.url.rstrip("/") + "/_sandbox/clock"
    try:
        with httpx.Client(trust_env=False, timeout=60.0) as http:
            reply = http.get(url) if body is None else http.post(url, json=body)
    except httpx.HTTPError as exc:
        print(f"Cannot reach the stand-in at {args.url}: {exc}", file=sys.stderr)
        return 1
    if reply.status_code != 200:
        try:
            reason = reply.json().get("error", reply.text)
        except ValueError:
            reason = reply.text
        print(f"The stand-in refused: {reason}", file=sys.stderr)
        return 1
    answer = reply.json()
    print(f"now {answer['now']}")
    for record in answer.get("ran", []):
        print(describe(record))
    return 0
