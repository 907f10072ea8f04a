"""The Lago REST surface: /health, and /api/v1 with Bearer auth and spec validation around it."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, NotFound

from . import errors, jsonenc, stripe_inbound
from .errors import LagoError
from .resources import (
    add_ons,
    alerts,
    analytics,
    billable_metrics,
    coupons,
    credit_notes,
    customers,
    entitlements,
    events,
    features,
    invoices,
    organizations,
    payment_methods,
    payments,
    plans,
    previews,
    subscriptions,
    usage,
    wallet_alerts,
    wallets,
    webhook_endpoints,
)
from .spec import (
    API_PREFIX,
    EMPTY_RESPONSES,
    EXTRA_RESPONSES,
    EXTRA_ROUTES,
    UNSAVED_RESPONSES,
    Violation,
    fill_unsaved,
)
from .state import LAGO_VERSION, current

RESOURCES = (
    organizations,
    billable_metrics,
    features,
    plans,
    entitlements,
    add_ons,
    customers,
    payment_methods,
    subscriptions,
    alerts,
    events,
    usage,
    previews,
    invoices,
    payments,
    credit_notes,
    coupons,
    wallets,
    wallet_alerts,
    webhook_endpoints,
    analytics,
)
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class LagoJSONProvider(DefaultJSONProvider):
    """Render JSON like Rails: key order kept, compact, UTF-8, no trailing newline."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return jsonenc.dumps(obj)

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), content_type=JSON_CONTENT_TYPE)


def lago_error_response(error: LagoError):
    """A Lago-shaped error body with its status."""
    response = jsonify(error.body)
    response.status_code = error.status
    return response


def build_api_blueprint() -> Blueprint:
    """/api/v1 with every resource blueprint, authentication and spec checks."""
    api = Blueprint("lago_api", __name__, url_prefix=API_PREFIX)
    for module in RESOURCES:
        api.register_blueprint(module.bp)
    api.before_request(_authenticate)
    api.before_request(_check_request)
    api.before_request(_serialize_writes)
    api.after_request(_check_response)
    api.teardown_request(_release_writes)
    return api


def _serialize_writes() -> None:
    """One writing request at a time, so check-then-insert (unique codes, upserts) is atomic."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        current().write_lock.acquire()
        g.holds_write_lock = True


def _release_writes(_error: BaseException | None) -> None:
    if g.pop("holds_write_lock", False):
        current().write_lock.release()


def _authenticate() -> None:
    """The key is the second word of the Authorization header, as in lago-api."""
    words = request.headers.get("Authorization", "").split()
    token = words[1] if len(words) > 1 else None
    if token != current().org()["api_key"]:
        raise errors.unauthorized()


def _route_key() -> str:
    rule = request.url_rule.rule[len(API_PREFIX) :] if request.url_rule else request.path
    return f"{request.method} " + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def _check_request() -> None:
    standin = current()
    extra = EXTRA_ROUTES.get(_route_key())
    if extra is not None:
        g.response_like = extra.response_like
        return
    if not standin.config.validate_requests:
        return
    problems = standin.spec_guard.check_request(
        request.method,
        request.path,
        request.args.items(multi=True),
        request.headers.items(),
        request.get_data(cache=True),
        request.content_type or "",
    )
    if not problems:
        return
    standin.spec_guard.record(Violation("request", request.method, _shown_path(), problems))
    if standin.config.strict:
        g.skip_response_check = True
        raise errors.bad_request(
            "request does not conform to the Lago OpenAPI spec: " + "; ".join(problems),
            code="openapi_violation",
            violations=problems,
        )


def _check_response(response):
    standin = current()
    if not standin.config.validate_responses or g.get("skip_response_check"):
        return response
    method, path = request.method, request.path
    if response.status_code == 200 and not response.get_data() and _route_key() in EMPTY_RESPONSES:
        return response
    extra = EXTRA_RESPONSES.get((_route_key(), response.status_code))
    if extra is not None:
        method, path = extra.like[0], API_PREFIX + _fill(extra.like[1])
    elif _route_key() in EXTRA_ROUTES:
        like = g.get("response_like")
        if like is None:
            return response
        method, path = like[0], API_PREFIX + like[1]
    body = response.get_data()
    if response.status_code == 200 and _route_key() in UNSAVED_RESPONSES:
        body = fill_unsaved(body)
    problems = standin.spec_guard.check_response(
        method,
        path,
        response.status_code,
        body,
        response.content_type or "",
        response.headers.items(),
    )
    if problems:
        standin.spec_guard.record(
            Violation("response", request.method, _shown_path(), problems, response.status_code)
        )
    return response


def _fill(template: str) -> str:
    """A path template with this request's path values (a placeholder id for the others)."""
    values = request.view_args or {}
    return re.sub(
        r"\{([^}]+)\}",
        lambda m: str(values.get(m.group(1), "1a901a90-1a90-1a90-1a90-1a901a901a90")),
        template,
    )


def _unknown_route(_error: HTTPException):
    """lago-api answers 404 resource_not_found; spec operations not built here answer 501."""
    standin = current()
    path = request.path
    if not path.startswith(API_PREFIX + "/"):
        return lago_error_response(errors.route_not_found())
    if standin.spec_guard.has_operation(request.method, path):
        problem = "documented in the spec but not implemented by the stand-in"
        standin.spec_guard.record(Violation("route", request.method, _shown_path(), [problem]))
        return lago_error_response(
            LagoError(501, errors.body(501, code="not_implemented_in_sandbox", message=problem))
        )
    if standin.config.validate_requests:
        problem = "no such route in lago-api's spec (answered 404 resource_not_found)"
        standin.spec_guard.record(Violation("route", request.method, _shown_path(), [problem]))
    return lago_error_response(errors.route_not_found())


def _internal_error(_error: InternalServerError):
    """Unhandled exceptions (already logged by Flask) answer like Rails in API mode."""
    return lago_error_response(errors.internal_error())


def _shown_path() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def health():
    """GET /health: reachability and version, no auth."""
    return jsonify(
        version=LAGO_VERSION,
        github_url=f"https://github.com/getlago/lago-api/tree/{LAGO_VERSION}",
        message="Success",
    )


def register(app: Flask) -> None:
    """Add the Lago routes and error handling to `app`."""
    app.json = LagoJSONProvider(app)
    app.add_url_rule("/health", "health", health)
    app.add_url_rule(
        "/rails/active_storage/blobs/redirect/<token>/<filename>", "blob", invoices.pdf_blob
    )
    app.add_url_rule(
        "/rails/active_storage/disk/<token>/<filename>", "blob_disk", invoices.pdf_disk
    )
    app.register_blueprint(build_api_blueprint())
    app.register_blueprint(stripe_inbound.bp)
    app.register_error_handler(LagoError, lago_error_response)
    app.register_error_handler(NotFound, _unknown_route)
    app.register_error_handler(MethodNotAllowed, _unknown_route)
    app.register_error_handler(InternalServerError, _internal_error)
