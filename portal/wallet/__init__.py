"""Prepaid credits: the wallet's balances and transactions, and top-ups by the customer."""

from flask import Blueprint

bp = Blueprint("wallet", __name__)

from portal.wallet import routes  # noqa: E402,F401
