"""Thin views of the usage page; its live parts load lazily as declared fragments."""

from __future__ import annotations

from flask import g, request

from portal.access import member_required
from portal.billing import outage
from portal.billing.connection import NotConnected
from portal.billing.sentences import for_customer
from portal.billing.summary import summarize
from portal.htmx import render_page
from portal.lago import LagoError, LagoUnavailable
from portal.usage import bp, current, history

CURRENT = "usage-current"
HISTORY = "usage-history"


def customer_sentence(error: LagoError) -> str:
    """Why a live part is missing, in the customer's words."""
    if isinstance(error, LagoUnavailable):
        return outage.not_answering(error.known_at, "The billing system")
    return for_customer(error).replace("Nothing was changed.", "").strip()


def _current_part() -> dict:
    """The current period for the lazy fragment, or the sentence saying why it is missing."""
    try:
        return {"usage": current.current_usage(g.tenant, fresh=request.args.get("fresh") == "1")}
    except NotConnected:
        return {"usage_error": "Billing is not connected yet, so there is no usage to show."}
    except LagoError as error:
        return {"usage_error": customer_sentence(error)}


@bp.route("/")
@member_required
def index():
    """The usage page; its live parts load lazily from `current`."""
    return render_page("usage/index.html", summary=summarize(g.tenant))


@bp.route("/current")
@member_required
def current_period():
    """The usage page with this period read from Lago (briefly cached; `?fresh=1` reads
    again); htmx takes the `usage-current` part alone."""
    return render_page(
        "usage/index.html",
        fragments={CURRENT},
        summary=summarize(g.tenant),
        **_current_part(),
    )


@bp.route("/history")
@member_required
def past_periods():
    """The usage page with the last billed periods from Lago (htmx takes that part alone)."""
    try:
        context = {"history": history.past_usage(g.tenant)}
    except NotConnected:
        context = {"history_error": "Billing is not connected yet, so there is no history."}
    except LagoError as error:
        context = {"history_error": customer_sentence(error)}
    return render_page(
        "usage/index.html", fragments={HISTORY}, summary=summarize(g.tenant), **context
    )
