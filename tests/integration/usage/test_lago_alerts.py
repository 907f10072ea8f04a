"""Usage alerts Lago evaluates: Pier creates them through Lago's subscription alerts API,
announces Lago's `alert.triggered` once per alert, level and period, deletes them with the
customer's, and falls back to its own job on a Lago without the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
import time_machine

from jobs.runtime import use_app
from jobs.usage import check_usage_alerts
from portal.extensions import db
from portal.models import BillingConnection, EmailLog, Notice, UsageAlert
from tests.integration.handlers.support import deliver, payload, run_jobs
from tests.integration.usage.conftest import SUBSCRIPTION, send_calls

TITLES = [
    "50 % of your alert: Seats reaches 4",
    "80 % of your alert: Seats reaches 4",
    "100 % of your alert: Seats reaches 4",
]


def _add(client, metric: str, target: str):
    client.get("/usage/")
    return client.submit("/usage/alerts", {"metric": metric, "target": target})


def _alert(app) -> UsageAlert:
    with app.app_context():
        alert = db.session.scalar(sa.select(UsageAlert).order_by(UsageAlert.id.desc()))
        db.session.expunge(alert)
        return alert


def _notices(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Notice.title).order_by(Notice.id)))


def _lago_alert(standin, code: str) -> httpx.Response:
    with standin.client() as client:
        return client.get(f"/subscriptions/{SUBSCRIPTION}/alerts/{code}")


def _lago_alerts_known(app) -> bool | None:
    with app.app_context():
        return db.session.scalar(sa.select(BillingConnection.lago_alerts))


def _emails(app) -> dict[str, int]:
    with app.app_context():
        sent = db.session.scalars(sa.select(EmailLog).filter_by(template="usage_alert")).all()
    counts: dict[str, int] = {}
    for entry in sent:
        counts[entry.subject] = counts.get(entry.subject, 0) + 1
    return counts


def test_lago_evaluates_the_alert_and_each_level_is_told_exactly_once(
    app, client_as, outbox, lago_settings, mailbox
):
    lago_settings(premium=True)
    owner = client_as("owner")
    assert _add(owner, "seats", "4").status_code == 303
    alert = _alert(app)
    assert alert.lago_subscriptions == [SUBSCRIPTION]
    assert _lago_alerts_known(app) is True
    held = _lago_alert(outbox.standin, alert.lago_code).json()["alert"]
    assert held["alert_type"] == "billable_metric_current_usage_units"
    assert held["billable_metric"]["code"] == "seats"
    assert [(t["code"], t["value"]) for t in held["thresholds"]] == [
        ("50", "2.0"),
        ("80", "3.2"),
        ("100", "4.0"),
    ]
    assert "checked by the billing system" in owner.get("/usage/").get_data(as_text=True)

    send_calls(outbox.standin, "s1", 2, code="seats")  # 2 of 4: Lago crosses 50 %
    delivered = outbox.dispatch_new()
    assert [kind for kind, _ in delivered if kind == "alert.triggered"] == ["alert.triggered"]
    assert _notices(app) == TITLES[:1]
    # Lago delivers the same webhook again (a retry): nothing new.
    body = outbox.bodies("alert.triggered")[0]
    assert deliver(app, body).outcome == "processed"
    assert _notices(app) == TITLES[:1]
    # Pier's own job leaves the alert to Lago.
    use_app(app)
    assert check_usage_alerts() == 0

    send_calls(outbox.standin, "s2", 3, code="seats")  # 5 of 4: 80 and 100 in one webhook
    outbox.dispatch_new()
    send_calls(outbox.standin, "s3", 1, code="seats")  # beyond every threshold: no webhook
    outbox.dispatch_new()
    assert len(outbox.bodies("alert.triggered")) == 2
    assert _notices(app) == TITLES
    run_jobs(app, "emails")
    run_jobs(app, "emails")  # a second run sends nothing again
    recipients = len(mailbox.wait_for("accounts@acme.test", count=3))
    assert recipients == 3
    counts = _emails(app)
    assert sorted(counts) == sorted(f"Usage alert: {title}" for title in TITLES)
    assert len(set(counts.values())) == 1  # each level once to each recipient
    assert "100 % of your alert: Seats reaches 4" in client_as("member").get("/").get_data(
        as_text=True
    )


def test_the_next_period_is_told_again(app, client_as, outbox, lago_settings):
    lago_settings(premium=True)
    assert _add(client_as("owner"), "", "10").status_code == 303  # $10 of usage
    send_calls(outbox.standin, "a", 2, code="seats")  # $10: 50, 80 and 100 %
    outbox.dispatch_new()
    outbox.standin.travel_to("2030-02-01T01:00:00Z")
    # February: Lago compares with the last value it saw ($10), so $5 only resets it and
    # the next $5 crosses 80 and 100 % again, in a new period.
    send_calls(outbox.standin, "b", 1, code="seats")
    send_calls(outbox.standin, "c", 1, code="seats")
    outbox.dispatch_new()
    words = "of your alert: usage amount reaches $10.00"
    assert [t for t in _notices(app) if "alert" in t] == [
        f"50 % {words}",
        f"80 % {words}",
        f"100 % {words}",
        f"80 % {words}",
        f"100 % {words}",
    ]
    with app.app_context():
        keys = db.session.scalars(sa.select(Notice.key).where(Notice.kind == "usage_alert"))
        periods = {key.split(":")[3] for key in keys}
    assert periods == {"2030-01-10", "2030-02-01"}


def test_removing_an_alert_deletes_it_in_lago_and_a_late_webhook_is_ignored(
    app, client_as, outbox, lago_settings
):
    lago_settings(premium=True)
    owner = client_as("owner")
    _add(owner, "seats", "2")
    alert = _alert(app)
    send_calls(outbox.standin, "s", 1, code="seats")
    assert owner.submit(f"/usage/alerts/{alert.id}/delete").status_code == 303
    assert _lago_alert(outbox.standin, alert.lago_code).status_code == 404
    delivered = outbox.dispatch_new()
    assert [d.outcome for kind, d in delivered if kind == "alert.triggered"] == ["processed"]
    assert _notices(app) == []
    notes = [d.note for kind, d in delivered if kind == "alert.triggered"]
    assert "No usage alert of this tenant" in notes[0]


def test_a_lago_without_the_alerts_api_is_remembered_and_pier_evaluates(
    app, client_as, connected, lago_settings
):
    lago_settings(premium=True, alerts_api=False)
    owner = client_as("owner")
    assert _add(owner, "seats", "4").status_code == 303
    assert _alert(app).lago_subscriptions is None
    assert _lago_alerts_known(app) is False
    # Pier remembers: even once the routes answer, new alerts stay with its job.
    lago_settings(alerts_api=True)
    _add(owner, "", "10")
    assert _alert(app).lago_subscriptions is None
    with connected.client() as client:
        assert client.get(f"/subscriptions/{SUBSCRIPTION}/alerts").json()["alerts"] == []
    assert "checked by Pier every 15 minutes" in owner.get("/usage/").get_data(as_text=True)
    send_calls(connected, "s", 2, code="seats")
    use_app(app)
    assert check_usage_alerts() == 4  # 50 % of 4 seats; 50, 80 and 100 % of the $10
    assert check_usage_alerts() == 0


def test_an_alert_lago_refuses_stays_with_pier(app, client_as, connected, lago_settings):
    lago_settings(premium=True)
    owner = client_as("owner")
    _add(owner, "seats", "4")
    _add(owner, "seats", "10")  # Lago keeps one alert per metric and subscription
    with app.app_context():
        held = [
            a.lago_subscriptions
            for a in db.session.scalars(sa.select(UsageAlert).order_by(UsageAlert.id))
        ]
    assert held == [[SUBSCRIPTION], None]
    assert _lago_alerts_known(app) is True
    send_calls(connected, "s", 5, code="seats")
    use_app(app)
    assert check_usage_alerts() == 1  # 50 % of 10 seats, by Pier's job


def test_with_lago_down_the_webhook_uses_the_mirrored_period(
    app, client_as, connected, lago_settings
):
    lago_settings(premium=True)
    _add(client_as("owner"), "seats", "4")
    alert = _alert(app)
    connected.set_faults(down="503", path_prefix="/api/v1/")
    outcome = deliver(app, payload("alert.triggered", alert_code=alert.lago_code))
    assert outcome.outcome == "processed"
    assert "Used the mirrored billing period" in outcome.note
    assert _notices(app) == TITLES
    with app.app_context():
        keys = set(db.session.scalars(sa.select(Notice.key)))
    assert keys == {f"usage_alert:{alert.id}:{SUBSCRIPTION}:2030-01-10:{n}" for n in (50, 80, 100)}


def test_a_lago_that_stores_alerts_but_never_evaluates_them_is_found_out(
    app, client_as, connected, lago_settings
):
    # A free Lago: the alerts API answers, but without a licence nothing evaluates them.
    owner = client_as("owner")
    assert _add(owner, "seats", "4").status_code == 303
    alert = _alert(app)
    assert alert.lago_subscriptions == [SUBSCRIPTION]
    send_calls(connected, "s", 2, code="seats")
    use_app(app)
    assert check_usage_alerts() == 0  # too early to tell: Lago may still evaluate it
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11), tick=False):
        assert check_usage_alerts() == 1  # taken back: Pier's job announces 50 %
    assert _alert(app).lago_subscriptions is None
    assert _lago_alerts_known(app) is False
    assert _lago_alert(connected, alert.lago_code).status_code == 404
    assert _notices(app) == TITLES[:1]


def test_a_lago_that_evaluates_alerts_keeps_them(app, client_as, connected, lago_settings):
    lago_settings(premium=True)
    _add(client_as("owner"), "seats", "4")
    use_app(app)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11), tick=False):
        assert check_usage_alerts() == 0
        assert check_usage_alerts() == 0  # and again: Lago still holds them
    assert _alert(app).lago_subscriptions == [SUBSCRIPTION]
    assert _lago_alerts_known(app) is True
