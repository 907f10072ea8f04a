"""What a tenant uses: the current period by billable metric, past periods, alerts."""

from flask import Blueprint

bp = Blueprint("usage", __name__)

from portal.usage import routes  # noqa: E402,F401
