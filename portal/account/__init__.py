"""The signed-in person's own profile and password."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from portal.account import routes  # noqa: E402,F401
