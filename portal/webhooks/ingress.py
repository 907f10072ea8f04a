"""Webhook deliveries served ahead of the portal's request pipeline.

`POST /webhooks/lago` and `POST /webhooks/stripe` need none of what a page needs: no session, no
signed-in user, no CSRF token, no rate limit, no request id; they keep the security headers
(Content-Security-Policy included) that every response carries. This WSGI wrapper hands those
two requests straight to their views in a request context without a session, and everything
else (including any other method on those paths) to the portal as before.
"""

from __future__ import annotations

import logging
import time

from flask import Flask
from flask.ctx import RequestContext
from flask.sessions import SecureCookieSession
from werkzeug.exceptions import HTTPException

from portal import csp
from portal.observability import requests
from portal.webhooks import routes

log = logging.getLogger(__name__)

VIEWS = {"/webhooks/lago": routes.lago, "/webhooks/stripe": routes.stripe}
HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


class Ingress:
    """The portal's WSGI app, with webhook deliveries taken off its request pipeline."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.portal = app.wsgi_app

    def __call__(self, environ, start_response):
        view = (
            VIEWS.get(environ.get("PATH_INFO", "")) if environ["REQUEST_METHOD"] == "POST" else None
        )
        if view is None:
            return self.portal(environ, start_response)
        context = RequestContext(self.app, environ, session=SecureCookieSession())
        context.push()
        started = time.perf_counter()
        try:
            response = self._respond(view)
            endpoint, path = requests.route_of()
            requests.record(endpoint, path, response.status_code, time.perf_counter() - started)
        finally:
            context.pop()
        return response(environ, start_response)

    def _respond(self, view):
        from portal.errors import render_error

        try:
            response = self.app.make_response(view())
        except HTTPException as exc:
            response = self.app.make_response(render_error(exc.code or 500))
        except Exception:
            log.exception("webhook delivery failed")
            response = self.app.make_response(render_error(500))
        for name, value in HEADERS:
            response.headers.setdefault(name, value)
        response.headers["Content-Security-Policy"] = csp.policy(csp.nonce(), self.app.config)
        return response


def serve_ahead(app: Flask) -> None:
    """Answer webhook deliveries before the portal's hooks run (called by the app factory)."""
    app.wsgi_app = Ingress(app)
