"""The `/v1` surface: keys, parameters, idempotency, one writer at a time, Stripe's errors."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from . import auth, errors, ids, wire
from .idempotency import should_save
from .resources import account, customers, events, payment_methods, setup_intents, webhook_endpoints
from .state import current

RESOURCES = (account, customers, payment_methods, setup_intents, events, webhook_endpoints)
PREFIX = "/v1"
# Stripe routes Pier may reach for that the stand-in does not serve yet (answered 501).
NOT_SERVED = (
    "/v1/payment_intents",
    "/v1/setup_attempts",
    "/v1/charges",
    "/v1/invoices",
    "/v1/subscriptions",
    "/v1/prices",
    "/v1/products",
    "/v1/tokens",
    "/v1/sources",
    "/v1/refunds",
    "/v1/checkout",
    "/v1/billing_portal",
)
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Expose-Headers": "Request-Id, Stripe-Version, Idempotent-Replayed",
}


def build_blueprint() -> Blueprint:
    """/v1 with every resource and the request pipeline around them."""
    bp = Blueprint("stripe_api", __name__, url_prefix=PREFIX)
    for module in RESOURCES:
        bp.register_blueprint(module.bp)
    bp.before_request(_begin)
    bp.before_request(_idempotency)
    bp.before_request(_serialize_writes)
    bp.after_request(_finish)
    bp.teardown_request(_release)
    return bp


def _begin() -> None:
    g.request_id = ids.request_id()
    if request.method == "OPTIONS":
        return
    g.api_version = current().config.api_version  # shown on errors raised before it is read
    g.key_kind = auth.authenticate()
    g.api_version = wire.api_version()
    g.params = wire.parse_request()


def _idempotency() -> Response | None:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return None
    g.idempotency_key = key
    endpoint = f"{request.method} {request.path}"
    saved = current().idempotency.begin(key, endpoint, g.params)
    if saved is None:
        g.idempotency = (key, endpoint)
        return None
    response = Response(saved["body"], status=saved["status"], content_type=wire.JSON_TYPE)
    response.headers["Idempotent-Replayed"] = "true"
    g.request_id = saved["request_id"]
    return response


def _serialize_writes() -> None:
    """One writing request at a time, so check-then-write sequences are atomic."""
    if request.method in ("POST", "DELETE"):
        current().write_lock.acquire()
        g.holds_write_lock = True


def _finish(response: Response) -> Response:
    held = g.get("idempotency")
    if held is not None and should_save(response.status_code):
        key, endpoint = held
        reply = {
            "status": response.status_code,
            "body": response.get_data(as_text=True),
            "request_id": g.request_id,
        }
        current().idempotency.finish(key, endpoint, g.params, reply)
    response.headers["Request-Id"] = g.get("request_id", "")
    response.headers["Stripe-Version"] = g.get("api_version") or current().config.api_version
    if g.get("idempotency_key"):
        response.headers["Idempotency-Key"] = g.idempotency_key
    response.headers.update(CORS_HEADERS)
    return response


def _release(_error: BaseException | None) -> None:
    held = g.pop("idempotency", None)
    if held is not None:
        current().idempotency.release(held[0])
    if g.pop("holds_write_lock", False):
        current().write_lock.release()


def _unknown_route(_error: HTTPException) -> Response:
    path = request.path
    if path.startswith("/_sandbox"):
        return json_error(404, f"no control route {request.method} {path}")
    if request.method == "OPTIONS":
        return Response(status=204, headers=CORS_HEADERS)
    if any(path == p or path.startswith(p + "/") for p in NOT_SERVED):
        return wire.error_response(errors.route_not_in_sandbox(request.method, path))
    return wire.error_response(errors.unrecognized_url(request.method, path))


def json_error(status: int, message: str) -> Response:
    """A control-API-style error: `{"error": message}`."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def _internal_error(_error: InternalServerError) -> Response:
    return wire.error_response(errors.api_error())


def _stripe_error(error: errors.StripeError) -> Response:
    return wire.error_response(error)


def register(app: Flask) -> None:
    """Add the Stripe routes and Stripe-shaped error handling to `app`."""
    app.register_blueprint(build_blueprint())
    app.register_error_handler(errors.StripeError, _stripe_error)
    app.register_error_handler(404, _unknown_route)
    app.register_error_handler(405, _unknown_route)
    app.register_error_handler(InternalServerError, _internal_error)
