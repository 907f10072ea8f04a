"""The signed-in landing page and tenant switching."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from portal.home import routes  # noqa: E402,F401
