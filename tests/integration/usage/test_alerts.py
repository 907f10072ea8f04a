"""Usage alerts a customer sets on a Lago without the subscription alerts API: evaluated by
Pier's job on the usage it reads from Lago, an in-app notice and an email once per alert, level
and period."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobs.runtime import use_app
from jobs.usage import check_usage_alerts
from portal.extensions import db
from portal.models import EmailLog, Notice, UsageAlert
from tests.integration.usage.conftest import send_calls


@pytest.fixture(autouse=True)
def older_lago(lago_settings):
    """A Lago whose alerts routes answer 404, as before Lago had them."""
    lago_settings(alerts_api=False)


def _add(client, metric: str, target: str):
    client.get("/usage/")
    return client.submit("/usage/alerts", {"metric": metric, "target": target})


def _run(app) -> int:
    use_app(app)
    return check_usage_alerts()


def _notices(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Notice.title).order_by(Notice.id)))


def test_an_alert_fires_once_per_level_and_period(app, client_as, connected, mailbox):
    owner = client_as("owner")
    assert _add(owner, "seats", "4").status_code == 303
    assert _run(app) == 0

    send_calls(connected, "s1", 2, code="seats")  # 2 of 4 seats: 50 %
    assert _run(app) == 1
    assert _run(app) == 0  # the same level again: nothing new
    send_calls(connected, "s2", 2, code="seats")  # 4 of 4: 80 % and 100 % at once
    assert _run(app) == 2
    assert _run(app) == 0
    assert _notices(app) == [
        "50 % of your alert: Seats reaches 4",
        "80 % of your alert: Seats reaches 4",
        "100 % of your alert: Seats reaches 4",
    ]
    with app.app_context():
        sent = db.session.scalars(sa.select(EmailLog).filter_by(template="usage_alert")).all()
    per_level = {}
    for entry in sent:
        per_level.setdefault(entry.subject, set()).add(entry.recipient)
    assert len(per_level) == 3
    assert all(
        len(recipients) == len(next(iter(per_level.values()))) for recipients in per_level.values()
    )
    received = mailbox.wait_for("accounts@acme.test", count=3)
    assert sorted(m["Subject"] for m in received) == sorted(
        f"Usage alert: {title}" for title in _notices(app)
    )
    # Each email leads to the usage page, not to the billing overview.
    for message in received:
        plain = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "See your usage: http://localhost/usage/" in plain
        assert 'href="http://localhost/usage/"' in html
        assert "#billing" not in plain + html
    # In-app: the tenant's overview shows the notice.
    assert "100 % of your alert: Seats reaches 4" in client_as("member").get("/").get_data(
        as_text=True
    )


def test_the_amount_alert_and_the_next_period(app, client_as, connected):
    owner = client_as("owner")
    assert _add(owner, "", "10").status_code == 303  # $10 of usage
    send_calls(connected, "a", 2, code="seats")  # $10 of seats
    assert _run(app) == 3
    connected.travel_to("2030-02-01T01:00:00Z")
    send_calls(connected, "b", 1, code="seats")  # $5 in February: 50 % again, a new period
    assert _run(app) == 1
    assert _notices(app)[-1] == "50 % of your alert: usage amount reaches $10.00"


def test_members_may_not_set_alerts_and_bad_targets_are_refused(app, client_as):
    assert (
        client_as("member").submit("/usage/alerts", {"metric": "", "target": "5"}).status_code
        == 403
    )
    owner = client_as("owner")
    for metric, target in (("", "0"), ("", "abc"), ("nonsense", "5")):
        response = _add(owner, metric, target)
        assert response.status_code == 422
        assert 'class="field-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UsageAlert)) == 0


def test_an_alert_of_another_tenant_cannot_be_removed(app, client_as, as_role):
    owner = client_as("owner")
    _add(owner, "", "5")
    with app.app_context():
        alert_id = db.session.scalar(sa.select(UsageAlert.id))
    other, _ = as_role("other_tenant")
    assert other.submit(f"/usage/alerts/{alert_id}/delete").status_code == 404
    assert owner.submit(f"/usage/alerts/{alert_id}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(UsageAlert, alert_id) is None
