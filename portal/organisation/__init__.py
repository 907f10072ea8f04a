"""The tenant's own details (name, billing email, address, tax id), mirrored to Lago."""

from flask import Blueprint

bp = Blueprint("organisation", __name__)

from portal.organisation import routes  # noqa: E402,F401
