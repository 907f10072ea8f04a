"""The platform admin console."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import (  # noqa: E402,F401
    api_tokens,
    billing,
    jobs,
    plans,
    routes,
    stripe,
    tenants,
    webhooks,
)
