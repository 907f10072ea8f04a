"""Operations: record a customer's action, send it once, and follow it until confirmed."""

from flask import Blueprint

bp = Blueprint("operations", __name__)

from portal.operations import routes  # noqa: E402,F401
