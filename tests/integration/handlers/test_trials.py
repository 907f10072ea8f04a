"""Trial-ending reminders: N days before the end, once per subscription and trial end."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs import emails as email_jobs
from portal.extensions import db
from portal.models import EmailLog, InvoiceMirror, Notice, Plan, SubscriptionMirror, Tenant, utcnow
from portal.notify.formatting import local_day
from tests.integration.handlers.support import (
    control,
    create_lago_customer,
    days_ago,
    deliver,
    lago_call,
    payload,
    rows,
    run_jobs,
)


def start_trial(outbox, days_ago_started: float = 12) -> dict:
    """Acme on Lago's Starter plan (14-day trial), started some days ago."""
    create_lago_customer(outbox.standin)
    body = {
        "subscription": {
            "external_customer_id": "pier_acme",
            "plan_code": "starter",
            "external_id": "acme-main",
            "subscription_at": days_ago(days_ago_started),
        }
    }
    created = lago_call(outbox.standin, "POST", "/subscriptions", json=body)["subscription"]
    outbox.dispatch_new()
    return created


def trial_notices(app) -> list[Notice]:
    return [n for n in rows(app, Notice) if n.kind == "trial_ending"]


def test_a_trial_ending_within_the_window_is_told_once(app, acme, outbox, mailbox):
    start_trial(outbox)
    [row] = rows(app, SubscriptionMirror)
    assert row.trial_ends_at - utcnow() < timedelta(days=3)

    assert email_jobs.send_trial_reminders() == 1
    [notice] = trial_notices(app)
    day = local_day(row.trial_ends_at, "Europe/Lisbon")
    assert notice.title == f"Your trial of Starter ends on {day}"
    assert "From then on it costs $9.00 per month, charged at the start" in notice.body
    assert "(Europe/Lisbon)" in notice.body
    run_jobs(app)

    for address in acme.billing_recipients:
        [message] = mailbox.to(address)
        assert message["Subject"] == f"Your Starter trial ends on {day}"
        body = message.get_body(("plain",)).get_content()
        assert "$9.00 per month" in body
        assert "(Europe/Lisbon)" in body
        assert "http://localhost/#billing" in body
    assert mailbox.to(acme.member) == []

    assert email_jobs.send_trial_reminders() == 1  # still due: the notice is refreshed
    run_jobs(app)
    assert len(mailbox.to(acme.owner)) == 1
    assert len(trial_notices(app)) == 1
    keys = {e.dedupe_key.split("|")[0] for e in rows(app, EmailLog)}
    assert keys == {f"trial_ending:{row.lago_id}:{row.trial_ends_at.isoformat()}"}


def test_a_trial_far_from_its_end_is_not_told_yet(app, acme, outbox, mailbox):
    start_trial(outbox, days_ago_started=2)
    assert email_jobs.send_trial_reminders() == 0
    run_jobs(app)
    assert mailbox.messages == []


def test_no_reminder_after_the_subscription_was_terminated(app, acme, outbox, mailbox):
    start_trial(outbox)
    lago_call(outbox.standin, "DELETE", "/subscriptions/acme-main")
    outbox.dispatch_new()
    assert email_jobs.send_trial_reminders() == 0
    run_jobs(app)
    assert mailbox.messages == []
    assert trial_notices(app) == []


def test_the_email_checks_lago_again_when_it_goes_out(app, acme, outbox, mailbox):
    start_trial(outbox)
    assert email_jobs.send_trial_reminders() == 1
    lago_call(outbox.standin, "DELETE", "/subscriptions/acme-main")  # its webhook is not here yet
    run_jobs(app)
    assert mailbox.messages == []
    assert rows(app, EmailLog) == []


def test_the_notice_closes_when_lago_ends_the_trial(app, acme, outbox):
    start_trial(outbox)
    email_jobs.send_trial_reminders()
    control(outbox.standin, "POST", "/clock", json={"advance_seconds": 3 * 86400})
    handled = dict(outbox.dispatch_new())
    assert handled["subscription.trial_ended"].note is None
    [row] = rows(app, SubscriptionMirror)
    assert row.trial_ended_at is not None
    [notice] = trial_notices(app)
    assert notice.resolved_at is not None


# -- Decided by the mirror when Lago cannot answer ---------------------------------------------


def trial_payload(
    name: str = "subscription.started", started: str | None = None, **changes
) -> dict:
    started = started or days_ago(12)
    return payload(name, subscription_at=started, started_at=started, created_at=started, **changes)


def test_with_lago_down_the_mirror_and_the_catalogue_decide(app, acme, lago_down, mailbox):
    with app.app_context():
        db.session.add(
            Plan(
                code="pro",
                name="Pro",
                amount_cents=4900,
                currency="EUR",
                interval="monthly",
                trial_period_days=14,
                pay_in_advance=True,
            )
        )
        db.session.commit()
    deliver(app, trial_payload())
    assert email_jobs.send_trial_reminders() == 1
    run_jobs(app)
    [message] = mailbox.to(acme.owner)
    assert message["Subject"].startswith("Your Pro trial ends on ")
    assert "€49.00 per month" in message.get_body(("plain",)).get_content()


def test_no_reminder_once_the_trial_ended(app, acme, lago_down, mailbox):
    deliver(app, trial_payload("subscription.trial_ended", trial_ended_at=days_ago(0.1)))
    assert email_jobs.send_trial_reminders() == 0


def test_no_reminder_to_a_tenant_that_already_paid(app, acme, lago_down, mailbox):
    deliver(app, trial_payload())
    deliver(
        app,
        payload(
            "invoice.created",
            issuing_date=days_ago(1)[:10],
            payment_status="succeeded",
            updated_at=days_ago(1),
        ),
    )
    assert rows(app, InvoiceMirror)[0].payment_status == "succeeded"
    assert email_jobs.send_trial_reminders() == 0
    run_jobs(app)
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("zone", "at"), [("Europe/Lisbon", "10:00:30"), ("America/New_York", "02:00:00")]
)
def test_an_invoice_paid_on_the_day_the_trial_started_counts(app, acme, lago_down, zone, at):
    """Lago's issuing date is a day in the customer's zone; the start has a time of day."""
    with app.app_context():
        db.session.get(Tenant, acme.id).timezone = zone
        db.session.commit()
    day = (utcnow() - timedelta(days=12)).date().isoformat()
    started = f"{day}T{at}Z"
    deliver(app, trial_payload(started=started))
    [row] = rows(app, SubscriptionMirror)
    issued = row.started_at.astimezone(ZoneInfo(zone)).date().isoformat()
    paid = payload("invoice.created", issuing_date=issued, payment_status="succeeded")
    deliver(app, paid)
    assert email_jobs.send_trial_reminders() == 0
