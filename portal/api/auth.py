"""Every API call carries a token: read for GET, write for changes; limited per token."""

from __future__ import annotations

import hashlib

from flask import current_app, g, request

from portal.api import bp, tokens
from portal.api.replies import ApiError, error_response
from portal.extensions import db, limiter, redis_key
from portal.models import Scope

PUBLIC_ENDPOINTS = {"api.openapi_document"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def _presented_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def token_rate_key() -> str:
    """Rate limits count per token (its hash), per instance; no token counts per address."""
    secret = _presented_secret()
    if secret is None:
        return redis_key("api", "anonymous", request.remote_addr or "")
    return redis_key("api", hashlib.sha256(secret.encode()).hexdigest()[:32])


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


limiter.limit(_rate_limit, key_func=token_rate_key)(bp)


@bp.before_request
def require_token():
    """401 without a valid token, 403 when its scopes do not cover the method."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = _presented_secret()
    if secret is None:
        raise ApiError(401, "unauthorized", "Send an API token as `Authorization: Bearer <token>`.")
    token = tokens.authenticate(secret)
    if token is None:
        raise ApiError(401, "invalid_token", "This API token is unknown or has been revoked.")
    needed = Scope.read if request.method in READ_METHODS else Scope.write
    if not token.allows(needed):
        raise ApiError(
            403, "insufficient_scope", f"This token lacks the {needed.value} scope for this call."
        )
    g.api_token = token
    if tokens.record_use(token, request.remote_addr):
        db.session.commit()
    return


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    db.session.rollback()
    return error_response(error)
