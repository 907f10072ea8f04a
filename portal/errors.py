"""Styled error pages (never a trace) and JSON errors for API clients."""

from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    403: (
        "Not allowed",
        "You do not have access to this page. Ask an owner of your organisation if you need it.",
    ),
    404: (
        "Page not found",
        "There is nothing at this address. Check the link, or go back to your overview.",
    ),
    405: ("Not allowed", "This address does not accept that kind of request."),
    410: ("Gone", "This link is no longer valid."),
    413: ("Too large", "What you sent is larger than Pier accepts. Send something smaller."),
    429: ("Slow down", "Too many attempts in a short time. Wait a minute, then try again."),
    503: ("Unavailable", "Pier cannot do this right now. Try again in a minute."),
    500: (
        "Something went wrong",
        "Pier hit an unexpected problem. It has been logged; please try again in a moment.",
    ),
}


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/webhooks/", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(status: int, detail: str | None = None):
    """The error page (or JSON) for a status code."""
    title, message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    message = detail or message
    if _wants_json():
        return jsonify(error=title, message=message, request_id=g.get("request_id")), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    return render_error(
        400, "Your form expired or was sent from elsewhere. Reload the page and try again."
    )


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if exc.code and exc.code < 400:
        return exc
    return render_error(exc.code or 500)


@bp.app_errorhandler(Exception)
def unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return http_error(exc)
    log.exception(
        "unhandled error on %s %s (request %s)", request.method, request.path, g.get("request_id")
    )
    db.session.rollback()
    return render_error(InternalServerError.code)
