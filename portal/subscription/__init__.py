"""A customer's actions on their subscription: refresh, cancel, reactivate, undo a downgrade."""

from flask import Blueprint

bp = Blueprint("subscription", __name__)

from portal.subscription import routes  # noqa: E402,F401
