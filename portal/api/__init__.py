"""The host application's JSON API (`/api/v1`): tenants, usage events, entitlements, state."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from portal.api import auth, events, openapi, state, tenants  # noqa: E402,F401
