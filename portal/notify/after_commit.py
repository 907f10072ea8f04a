"""Email jobs queued only once the transaction that established their fact has committed."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rq import Retry

from portal.extensions import db
from portal.queues import enqueue

log = logging.getLogger(__name__)

EMAIL_JOB = "jobs.emails.send"
PENDING = "pier_emails_after_commit"
# Seconds between retries when SMTP fails; the email log keeps a sent message from going twice.
RETRY_INTERVALS = [30, 300, 1800, 7200]


def queue_email(kind: str, *args: Any) -> None:
    """Send the email `kind` about `args` (ids) from the emails queue after the next commit."""
    session = db.session()
    session.connection()  # a transaction, so its commit or rollback settles the email
    session.info.setdefault(PENDING, []).append((kind, args))
    if not sa.event.contains(session, "after_commit", _enqueue_pending):
        sa.event.listen(session, "after_commit", _enqueue_pending)
        sa.event.listen(session, "after_soft_rollback", _forget_pending)


def pending() -> list[tuple[str, tuple[Any, ...]]]:
    """The emails waiting for the current transaction to commit."""
    return list(db.session().info.get(PENDING, []))


def _enqueue_pending(session: Any) -> None:
    for kind, args in session.info.pop(PENDING, []):
        job = enqueue(
            "emails",
            EMAIL_JOB,
            kind,
            *args,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        )
        if job is None:
            log.warning("the %s email about %r was not queued (Redis is unavailable)", kind, args)


def _forget_pending(session: Any, previous_transaction: Any) -> None:
    if not previous_transaction.nested:
        session.info.pop(PENDING, None)
