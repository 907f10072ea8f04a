"""One app per worker process, and a decorator that runs a job inside its context."""

from __future__ import annotations

from functools import wraps

from flask import Flask
from rq import get_current_job

from portal.observability import correlation

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


def _job_request_id() -> str | None:
    """The id a job logs under: the request's that queued it, else its own (cron and sweeps),
    else the one already current (a job function called directly)."""
    job = get_current_job()
    if job is None:
        return correlation.current()
    return (job.meta or {}).get("request_id") or f"job-{job.id}"


def in_app_context(func):
    """Run the job inside the app context and clean the session up afterwards."""

    @wraps(func)
    def wrapped(*args, **kwargs):
        from portal.extensions import db

        with current().app_context(), correlation.bound(_job_request_id()):
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapped
