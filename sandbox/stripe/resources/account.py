"""GET /v1/account: the account the secret key belongs to (what a connection test reads)."""

from __future__ import annotations

from flask import Blueprint

from .. import wire

bp = Blueprint("account", __name__)

ACCOUNT_ID = "acct_sandbox0000000000"


@bp.get("/account")
def retrieve_current():
    wire.params(("expand",))
    return wire.respond(
        {
            "id": ACCOUNT_ID,
            "object": "account",
            "business_profile": {"name": "Stripe stand-in"},
            "charges_enabled": True,
            "country": "US",
            "default_currency": "usd",
            "details_submitted": True,
            "email": None,
            "livemode": False,
            "payouts_enabled": True,
            "settings": {"dashboard": {"display_name": "Stripe stand-in", "timezone": "Etc/UTC"}},
            "type": "standard",
        }
    )
