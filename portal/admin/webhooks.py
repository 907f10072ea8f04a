"""Webhooks: the inbox with filters, one event in detail, replays and each source's health."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort, flash, request
from flask_login import current_user
from sqlalchemy.orm import defer

from portal import audit
from portal.access import platform_admin_required
from portal.admin import bp
from portal.admin.forms import TrustIssuerForm
from portal.auth.forms import ConfirmForm
from portal.billing.connection import get_connection
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.inputs import page_number
from portal.models import EventSource, EventStatus, SignatureFailure, WebhookEvent, utcnow
from portal.observability import correlation
from portal.webhooks import inbox, issuers

PAGE_SIZE = 50
WAITING = (EventStatus.received, EventStatus.processing, EventStatus.failed)
FAILING_SIGNATURES = 3
# The badge colour of each status.
BADGES = {
    "processed": "ok",
    "ignored": "muted",
    "received": "pending",
    "processing": "pending",
    "failed": "failed",
    "dead": "failed",
}


@dataclass(frozen=True)
class SourceHealth:
    """How one sender's webhooks are doing, for the health card."""

    source: EventSource
    last_event_at: datetime | None
    failures_24h: int
    failures_since_valid: int
    waiting: int
    oldest_waiting_at: datetime | None
    dead: int
    wrong_issuer: issuers.IssuerMismatch | None = None

    @property
    def signatures_failing(self) -> bool:
        """Several refusals in the last hour and no valid delivery since they began."""
        return self.failures_since_valid >= FAILING_SIGNATURES


def _count(*conditions) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(*conditions)) or 0


def source_health(source: EventSource) -> SourceHealth:
    """Last event, signature failures, backlog and dead events of one source."""
    now = utcnow()
    last_event_at = db.session.scalar(
        sa.select(WebhookEvent.received_at)
        .where(WebhookEvent.source == source)
        .order_by(WebhookEvent.id.desc())
        .limit(1)
    )
    hour_ago = now - timedelta(hours=1)
    since = max(last_event_at, hour_ago) if last_event_at else hour_ago
    oldest = db.session.scalar(
        sa.select(sa.func.min(WebhookEvent.received_at)).where(
            WebhookEvent.source == source, WebhookEvent.status.in_(WAITING)
        )
    )
    failures = SignatureFailure
    return SourceHealth(
        source=source,
        last_event_at=last_event_at,
        failures_24h=_count(
            failures.source == source, failures.received_at > now - timedelta(hours=24)
        ),
        failures_since_valid=_count(failures.source == source, failures.received_at > since),
        waiting=_count(WebhookEvent.source == source, WebhookEvent.status.in_(WAITING)),
        oldest_waiting_at=oldest,
        dead=_count(WebhookEvent.source == source, WebhookEvent.status == EventStatus.dead),
        wrong_issuer=issuers.issuer_mismatch(get_connection())
        if source is EventSource.lago
        else None,
    )


def event_page(*, source: str = "", status: str = "", event_type: str = "", page: int = 1):
    """One page of the inbox, newest first, filtered by source, status and type prefix."""
    query = sa.select(WebhookEvent).options(defer(WebhookEvent.body), defer(WebhookEvent.headers))
    if source in EventSource.__members__:
        query = query.where(WebhookEvent.source == EventSource(source))
    if status in EventStatus.__members__:
        query = query.where(WebhookEvent.status == EventStatus(status))
    if event_type:
        query = query.where(WebhookEvent.event_type.startswith(event_type, autoescape=True))
    query = query.order_by(WebhookEvent.id.desc())
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)


def pretty_json(body: str) -> str:
    """The body indented for reading, or as it came when it is not JSON."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _filters() -> dict[str, str]:
    args = request.args
    return {
        "source": args.get("source", "").strip()[:16],
        "status": args.get("status", "").strip()[:16],
        "event_type": args.get("type", "").strip()[:100],
    }


@bp.route("/webhooks")
@platform_admin_required
def webhooks():
    """Health per source and the inbox, newest first."""
    filters = _filters()
    page = page_number()
    return render_page(
        "admin/webhooks.html",
        fragments={"webhook-health", "events-table"},
        events=event_page(page=page, **filters),
        health=[source_health(source) for source in EventSource],
        failed=_count(WebhookEvent.status.in_(inbox.REPLAYABLE)),
        filters=filters,
        sources=list(EventSource),
        statuses=list(EventStatus),
        confirm=ConfirmForm(),
        badge=BADGES,
    )


@bp.route("/webhooks/trust-issuer", methods=["POST"])
@platform_admin_required
def webhooks_trust_issuer():
    """Expect the issuer that Lago's webhooks signed with the saved key carry."""
    form = TrustIssuerForm()
    connection = get_connection()
    if connection is None or not form.validate_on_submit():
        abort(400)
    issuer = form.issuer.data
    if issuers.trust_issuer(connection, issuer):
        db.session.commit()
        flash(
            f"Lago's webhooks issued by {issuer} are accepted from now on. Deliveries refused "
            "before can be sent again from Lago (Developers › Webhooks).",
            "success",
        )
    else:
        db.session.rollback()
        flash(
            "No recent delivery signed with the saved public key carries this issuer, "
            "so nothing was changed.",
            "error",
        )
    return redirect_to("admin.webhooks")


@bp.route("/webhooks/<int:event_id>")
@platform_admin_required
def webhook_detail(event_id: int):
    """One event: its body as indented JSON, its headers and its processing record."""
    event = db.session.get(WebhookEvent, event_id) or abort(404)
    return render_page(
        "admin/webhooks_detail.html",
        event=event,
        pretty_body=pretty_json(event.body),
        log_id=correlation.webhook_id(event.source.value, event.id),
        confirm=ConfirmForm(),
        badge=BADGES,
    )


def _queue_after_commit(ids: list[int]) -> bool:
    """Queue the replayed events; True when all of them reached the queue."""
    queued = inbox.queue_events(ids)
    inbox.mark_queued(queued)
    db.session.commit()
    return len(queued) == len(ids)


@bp.route("/webhooks/<int:event_id>/replay", methods=["POST"])
@platform_admin_required
def webhook_replay(event_id: int):
    """Process one event again, whatever its status (except while it is being processed)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    event = db.session.get(WebhookEvent, event_id) or abort(404)
    if not inbox.replay_event(event.id, current_user.email):
        flash("This event is being processed right now; replay it when it is done.", "error")
        return redirect_to("admin.webhook_detail", event_id=event.id)
    audit.record("webhook.replayed", target=event, after={"event_type": event.event_type})
    db.session.commit()
    if _queue_after_commit([event.id]):
        flash(f"Event {event.id} queued again.", "success")
    else:
        flash("Redis is unavailable: the event will be queued within a minute.", "error")
    return redirect_to("admin.webhook_detail", event_id=event.id)


@bp.route("/webhooks/replay-failed", methods=["POST"])
@platform_admin_required
def webhooks_replay_failed():
    """Process every failed and dead event again."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = inbox.replay_failed(current_user.email)
    audit.record("webhook.replayed_failed", after={"count": len(ids)})
    db.session.commit()
    if _queue_after_commit(ids):
        flash(f"{len(ids)} event(s) queued again.", "success")
    else:
        flash("Redis is unavailable: the events will be queued within a minute.", "error")
    return redirect_to("admin.webhooks")
