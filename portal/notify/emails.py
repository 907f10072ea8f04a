"""Emails sent at most once per business fact: the email log is written first, then SMTP."""

from __future__ import annotations

import hashlib
import logging
import smtplib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_request_context

from portal import mail
from portal.billing.mirror import dialect_insert
from portal.extensions import db
from portal.models import EmailLog, Membership, Role, Tenant, User, utcnow

log = logging.getLogger(__name__)

SENDING, SENT, FAILED, SKIPPED = "sending", "sent", "failed", "skipped"
KEY_LENGTH = 255
BILLING_ROLES = (Role.owner, Role.billing_admin)


@dataclass(frozen=True)
class Delivery:
    """What happened to one recipient's copy."""

    recipient: str
    status: str
    error: str | None = None


class EmailNotSent(RuntimeError):
    """At least one copy failed; the job raises it so the queue retries the failed copies."""


def recipients_for(tenant: Tenant) -> list[str]:
    """The tenant's billing email, then its owners and billing admins (each address once)."""
    rows = db.session.execute(
        sa.select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant.id, Membership.role.in_(BILLING_ROLES))
        .order_by(Membership.id)
    )
    addresses = [tenant.billing_email, *(email for (email,) in rows)]
    seen: set[str] = set()
    chosen = []
    for address in addresses:
        if address and address.strip().lower() not in seen:
            seen.add(address.strip().lower())
            chosen.append(address.strip())
    return chosen


def log_key(dedupe_key: str, recipient: str) -> str:
    """The email log's key for one recipient's copy of a fact's email."""
    key = f"{dedupe_key}|{recipient.lower()}"
    if len(key) <= KEY_LENGTH:
        return key
    return f"{dedupe_key[:180]}|{hashlib.sha256(key.encode()).hexdigest()}"


@contextmanager
def rendering() -> Iterator[None]:
    """A request context on PIER_BASE_URL, so templates build absolute links outside requests."""
    if has_request_context():
        yield
        return
    base_url = current_app.config["PIER_BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url):
        yield


def send_once(
    dedupe_key: str,
    tenant: Tenant | None,
    template: str,
    recipients: Iterable[str],
    subject: str,
    /,
    **context,
) -> list[Delivery]:
    """Send `templates/email/<template>.*` to each recipient who has not had it for this key.

    Each copy is claimed in the email log (insert-or-ignore on its key) and committed before
    SMTP is spoken, so concurrent or repeated calls send it once. A copy that failed earlier
    is claimed again and retried; a sent one never is. Writes go through their own connection:
    call this after the caller's work is committed. Templates also get `tenant`.
    """
    context = {"tenant": tenant, **context}
    deliveries = []
    for recipient in recipients:
        key = log_key(dedupe_key, recipient)
        if not _claim(key, tenant, template, recipient, subject):
            deliveries.append(Delivery(recipient, SKIPPED))
            continue
        try:
            with rendering():
                message = mail.build_message(recipient, subject, template, **context)
            mail.deliver(message)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            log.warning("could not send %s to %s: %s", template, recipient, exc)
            _finish(key, FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
            deliveries.append(Delivery(recipient, FAILED, str(exc)))
        else:
            _finish(key, SENT)
            deliveries.append(Delivery(recipient, SENT))
    return deliveries


def _claim(key: str, tenant: Tenant | None, template: str, recipient: str, subject: str) -> bool:
    with db.engine.begin() as conn:
        inserted = conn.execute(
            dialect_insert(EmailLog)
            .values(
                dedupe_key=key,
                tenant_id=tenant.id if tenant is not None else None,
                template=template,
                recipient=recipient,
                subject=subject[:255],
                status=SENDING,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(EmailLog.id)
        ).scalar()
        if inserted is not None:
            return True
        retried = conn.execute(
            sa.update(EmailLog)
            .where(EmailLog.dedupe_key == key, EmailLog.status == FAILED)
            .values(status=SENDING, error=None, subject=subject[:255])
        )
        return retried.rowcount == 1


def _finish(key: str, status: str, *, error: str | None = None) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(EmailLog)
            .where(EmailLog.dedupe_key == key)
            .values(status=status, error=error, sent_at=utcnow() if status == SENT else None)
        )


def raise_for_failures(deliveries: list[Delivery]) -> None:
    """Raise EmailNotSent when a copy failed, so the job is retried."""
    failed = [d for d in deliveries if d.status == FAILED]
    if failed:
        names = ", ".join(f"{d.recipient} ({d.error})" for d in failed)
        raise EmailNotSent(f"not sent to {names}")
