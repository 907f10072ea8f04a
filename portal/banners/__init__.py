"""Banners about a tenant's billing: trial, dunning, suspension; dismissible per session."""

from flask import Blueprint

bp = Blueprint("banners", __name__)

from portal.banners import routes  # noqa: E402,F401
