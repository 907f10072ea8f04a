"""Email jobs: one billing email about one fact, the hourly trial-ending reminders and the
expiring-card reminders."""

from __future__ import annotations

from rq import get_current_job

from jobs.runtime import in_app_context
from portal.billing import trials
from portal.cards import expiry
from portal.extensions import db
from portal.notify import billing_emails
from portal.notify.after_commit import queue_email
from portal.notify.emails import SENT, raise_for_failures


def _last_try() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


@in_app_context
def send(kind: str, *args) -> str:
    """Send the email `kind` about `args` if its fact still holds; raises if SMTP failed."""
    outgoing = billing_emails.prepare(kind, *args, final=_last_try())
    db.session.commit()
    if outgoing is None:
        return "no longer holds"
    deliveries = billing_emails.send(outgoing)
    db.session.commit()
    raise_for_failures(deliveries)
    return f"sent {sum(d.status == SENT for d in deliveries)} of {len(deliveries)}"


@in_app_context
def send_trial_reminders() -> int:
    """Remind tenants whose trial ends soon (a notice now, the email from the queue)."""
    reminded = 0
    for subscription_id in trials.due():
        row, lago = trials.recheck(subscription_id)
        reminder = trials.reminder_for(row, lago) if row is not None else None
        if reminder is not None:
            trials.remind(reminder)
            reminded += 1
        db.session.commit()
    trials.resolve_finished()
    db.session.commit()
    return reminded


@in_app_context
def send_card_expiry_reminders() -> int:
    """Queue the "card expiring next month" email of each default card whose last month is next
    month and that was not told yet; the email job asks Stripe again before it goes."""
    queued = 0
    for card_id, month in expiry.due():
        queue_email(expiry.KIND, card_id, month)
        queued += 1
    db.session.commit()
    return queued
