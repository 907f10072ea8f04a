"""send_once: the email log is written first, so a fact's email goes once per recipient."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from jobs import emails as email_jobs
from portal.extensions import db
from portal.models import EmailLog, Notice, Tenant
from portal.notify import formatting, notices
from portal.notify.emails import EmailNotSent, recipients_for, send_once
from tests.integration.handlers.support import deliver, payload, rows


def test_recipients_are_the_billing_email_owners_and_billing_admins(app, acme):
    with app.app_context():
        tenant = db.session.get(Tenant, acme.id)
        assert recipients_for(tenant) == acme.billing_recipients
        tenant.billing_email = acme.owner.upper()
        assert recipients_for(tenant) == [acme.owner.upper(), acme.billing_admin]


def send_all_set(app, acme, key: str = "all_set:test") -> list:
    with app.app_context():
        tenant = db.session.get(Tenant, acme.id)
        return send_once(
            key,
            tenant,
            "all_set",
            recipients_for(tenant),
            "You're all set: your payments are up to date",
            fmt=formatting,
            since=datetime(2025, 5, 1, tzinfo=UTC),
        )


def test_the_same_key_twice_sends_once(app, acme, mailbox):
    first = send_all_set(app, acme)
    second = send_all_set(app, acme)
    assert [d.status for d in first] == ["sent"] * 3
    assert [d.status for d in second] == ["skipped"] * 3
    assert len(mailbox.to(acme.owner)) == 1
    body = mailbox.to(acme.owner)[0].get_body(("plain",)).get_content()
    assert "May 1, 2025 at 1:00 AM (Europe/Lisbon)" in body


def test_threads_racing_on_one_key_send_once(app, acme, mailbox):
    barrier = threading.Barrier(5)

    def race():
        barrier.wait()
        send_all_set(app, acme)

    threads = [threading.Thread(target=race) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(mailbox.to(acme.billing_email)) == 1
    assert len(rows(app, EmailLog)) == 3


def test_a_failed_copy_is_logged_and_sent_on_the_next_try(app, acme, mailbox):
    working = app.config["MAIL_URL"]
    app.config["MAIL_URL"] = "smtp://127.0.0.1:9"
    deliveries = send_all_set(app, acme)
    assert {d.status for d in deliveries} == {"failed"}
    logged = rows(app, EmailLog)
    assert {e.status for e in logged} == {"failed"}
    assert all(e.error and e.sent_at is None for e in logged)

    app.config["MAIL_URL"] = working
    assert {d.status for d in send_all_set(app, acme)} == {"sent"}
    assert {e.status for e in rows(app, EmailLog)} == {"sent"}
    assert len(mailbox.to(acme.owner)) == 1


def test_the_email_job_raises_so_the_queue_retries_a_failed_copy(app, acme, lago_down, mailbox):
    deliver(app, payload("invoice.created"))
    deliver(app, payload("invoice.payment_overdue"))
    [notice] = [n for n in rows(app, Notice) if n.kind == "invoice_overdue"]
    invoice_id = notice.key.split(":", 1)[1]
    working = app.config["MAIL_URL"]
    app.config["MAIL_URL"] = "smtp://127.0.0.1:9"
    with pytest.raises(EmailNotSent):
        email_jobs.send("invoice_overdue", acme.id, invoice_id)
    app.config["MAIL_URL"] = working
    assert email_jobs.send("invoice_overdue", acme.id, invoice_id) == "sent 3 of 3"
    assert email_jobs.send("invoice_overdue", acme.id, invoice_id) == "sent 0 of 3"
    [message] = mailbox.to(acme.owner)
    assert message["Subject"] == "Invoice ACM-C6D5-001-007 is overdue"


def test_an_email_whose_fact_no_longer_holds_is_not_sent(app, acme, mailbox):
    with app.app_context():
        notices.raise_notice(
            "invoice_overdue:gone",
            tenant_id=acme.id,
            kind="invoice_overdue",
            title="Invoice X is overdue",
            body="…",
            level="error",
        )
        notices.resolve("invoice_overdue:gone")
        db.session.commit()
    assert email_jobs.send("invoice_overdue", acme.id, "gone") == "no longer holds"
    assert mailbox.messages == []
