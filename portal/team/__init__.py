"""A tenant's members and invitations."""

from flask import Blueprint

bp = Blueprint("team", __name__)

from portal.team import routes  # noqa: E402,F401
