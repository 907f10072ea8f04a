"""Platform dashboard and audit log."""

from __future__ import annotations

from flask import request

from portal.access import platform_admin_required
from portal.admin import bp
from portal.admin.services import audit_page, platform_counts, recent_tenants
from portal.htmx import render_page


@bp.route("/")
@platform_admin_required
def index():
    """Headline numbers and the newest tenants."""
    return render_page("admin/index.html", counts=platform_counts(), tenants=recent_tenants())


@bp.route("/audit")
@platform_admin_required
def audit():
    """The audit log, filterable by action and actor."""
    action = request.args.get("action", "").strip()[:80]
    actor = request.args.get("actor", "").strip()[:254]
    page = request.args.get("page", 1, type=int) or 1
    return render_page(
        "admin/audit.html",
        entries=audit_page(page=max(page, 1), action=action, actor=actor),
        action=action,
        actor=actor,
    )
