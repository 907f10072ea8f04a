"""One app per worker process, and a decorator that runs a job inside its context."""

from __future__ import annotations

from functools import wraps

from flask import Flask

_app: Flask | None = None


def use_app(app: Flask) -> None:
    """Run jobs in this process against the given app (the worker entry and tests call it)."""
    global _app
    _app = app


def current() -> Flask:
    """The process's app, built from the environment on first use."""
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    return _app


def in_app_context(func):
    """Run the job inside the app context and clean the session up afterwards."""

    @wraps(func)
    def wrapped(*args, **kwargs):
        from portal.extensions import db

        with current().app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapped
