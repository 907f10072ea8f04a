"""The correlation id of the work in hand: a request's id, a job's, or a webhook's.

Set by the web app for each request (`X-Request-ID`), carried into the RQ jobs a request
enqueues (job meta), sent to Lago as `X-Request-ID`, and stamped on every log line, so that one
id finds the click, the Lago and Stripe calls, the job, the webhook and the email.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

MAX_LENGTH = 64
_current: ContextVar[str | None] = ContextVar("pier_correlation_id", default=None)


def current() -> str | None:
    """The id of the work in hand, if any."""
    return _current.get()


def new_id(prefix: str = "") -> str:
    """A fresh id (32 hex digits after the prefix)."""
    return prefix + uuid.uuid4().hex


def accepted(incoming: str | None) -> str | None:
    """An id sent by a client or a proxy, if it is one we may carry: short printable ASCII."""
    if incoming and len(incoming) <= MAX_LENGTH and incoming.isascii() and incoming.isprintable():
        return incoming
    return None


def set_current(value: str | None) -> Token:
    """Make `value` the current id; give the token back to `reset`."""
    return _current.set(value)


def reset(token: Token) -> None:
    """Restore the id that was current before `set_current`."""
    _current.reset(token)


@contextmanager
def bound(value: str | None) -> Iterator[str | None]:
    """The block runs with `value` as the current id."""
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def webhook_id(source: str, event_id: int) -> str:
    """The correlation id of one stored webhook event (the same at ingress and in its job)."""
    return f"wh-{source}-{event_id}"
