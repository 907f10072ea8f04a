"""Dismissing a banner for the session, and the compact banners every customer page shows."""

from __future__ import annotations

from flask import abort, g, redirect, request, session, url_for
from flask_login import current_user

from portal.access import current_membership, member_required
from portal.banners import bp, services
from portal.banners.forms import DismissForm


@bp.route("/banners/dismiss", methods=["POST"])
@member_required
def dismiss():
    """Hide a banner in this session while it says the same; back to the page it was on."""
    form = DismissForm()
    if not form.validate_on_submit():
        abort(400)
    services.dismiss(session, form.kind.data, form.state.data)
    return redirect(_back(form.next.data), 303)


def _back(target: str | None) -> str:
    """A path on this site to go back to (never another host)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("home.index")


@bp.app_context_processor
def inject_banners():
    """`customer_banners()`: the compact banners of this page (read once, only when asked)."""
    return {"customer_banners": compact_banners}


def compact_banners() -> list[services.Banner]:
    """The banners of the current tenant not dismissed in this session; none on admin pages."""
    if "compact_banners" in g:
        return g.compact_banners
    found: list[services.Banner] = []
    endpoint = request.endpoint or ""
    if current_user.is_authenticated and not endpoint.startswith(("admin.", "auth.")):
        membership = current_membership()
        if membership is not None:
            everything = services.banners_for(membership.tenant, membership.role)
            found = services.visible(everything, session.get(services.SESSION_KEY))
    g.compact_banners = found
    return found
