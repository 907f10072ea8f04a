"""Platform dashboard and audit log."""

from __future__ import annotations

from flask import abort, flash, request

from portal import audit as audit_log
from portal.access import platform_admin_required
from portal.admin import bp
from portal.admin.services import audit_page, platform_counts, recent_tenants
from portal.auth.forms import ConfirmForm
from portal.billing import outage
from portal.billing.analytics import current_mrr, last_known_mrr
from portal.billing.connection import NotConnected, get_connection
from portal.extensions import db
from portal.health.checks import run_checks
from portal.htmx import redirect_to, render_page
from portal.inputs import page_number
from portal.lago import LagoError, LagoFeatureUnavailable
from portal.models import Notice
from portal.notify import notices


@bp.route("/")
@platform_admin_required
def index():
    """Setup banner, headline numbers and the newest tenants; live cards load lazily."""
    return render_page(
        "admin/index.html",
        counts=platform_counts(),
        tenants=recent_tenants(),
        connection=get_connection(),
        alerts=notices.for_admins(),
        confirm=ConfirmForm(),
    )


@bp.route("/alerts/<int:notice_id>/resolve", methods=["POST"])
@platform_admin_required
def resolve_alert(notice_id: int):
    """Mark an admin alert (e.g. Lago's event ingestion errors) as dealt with."""
    alert = db.session.get(Notice, notice_id)
    if alert is None or alert.tenant_id is not None or not ConfirmForm().validate_on_submit():
        abort(404)
    notices.resolve(alert.key)
    audit_log.record("admin.alert_resolved", target=alert, after={"title": alert.title})
    db.session.commit()
    flash("Alert marked as dealt with.", "success")
    return redirect_to("admin.index")


@bp.route("/health")
@platform_admin_required
def health():
    """The health card: database, Redis and Lago, each with its latency."""
    healthy, checks = run_checks()
    return render_page(
        "admin/index.html",
        block="health_card",
        healthy=healthy,
        checks=checks,
        lago_outage=outage.current_outage(),
    )


@bp.route("/mrr")
@platform_admin_required
def mrr():
    """The MRR card, loaded lazily: Lago's analytics, or why it is not available."""
    try:
        figure, reason = current_mrr(), None
    except NotConnected:
        figure, reason = None, "Connect Lago to see MRR."
    except LagoFeatureUnavailable:
        figure, reason = (
            None,
            "Not available: Lago's revenue analytics are a premium feature of this Lago.",
        )
    except LagoError as exc:
        figure, reason = last_known_mrr(), outage.sentence(exc)
        if figure is None:
            reason = f"Not available right now: {reason}"
    return render_page("admin/index.html", block="mrr_card", mrr=figure, mrr_reason=reason)


@bp.route("/audit")
@platform_admin_required
def audit():
    """The audit log, filterable by action, actor and request id."""
    action = request.args.get("action", "").strip()[:80]
    actor = request.args.get("actor", "").strip()[:254]
    request_id = request.args.get("request_id", "").strip()[:64]
    return render_page(
        "admin/audit.html",
        fragments={"audit-table"},
        entries=audit_page(page=page_number(), action=action, actor=actor, request_id=request_id),
        action=action,
        actor=actor,
        request_id=request_id,
    )
