"""The platform admin console."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import billing, jobs, plans, routes, stripe, tenants, webhooks  # noqa: E402,F401
