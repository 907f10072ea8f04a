"""The platform admin console."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import billing, plans, routes, tenants  # noqa: E402,F401
