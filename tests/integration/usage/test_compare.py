"""This period against the last one at the same day, from the amounts Pier records as it reads
usage; at the period edges (a 31-day January before a 28-day February before a 31-day March)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import time_machine

from jobs.runtime import use_app
from jobs.usage import record_usage_days
from portal.extensions import db
from portal.models import UsageDay
from portal.usage.compare import day_of, days_in
from tests.integration.usage.conftest import CURRENT, send_calls, subscribe_acme_to_pro


@pytest.fixture
def subscribed(app, acme, connected):
    """Acme on Pro from 1 January 2030 (calendar months, UTC as Lisbon in winter)."""
    return subscribe_acme_to_pro(app, acme, connected, at="2030-01-01T00:00:00Z")


def _read(client_as, connected, moment: str) -> str:
    """The usage part as Pier and Lago see it at `moment`."""
    at = datetime.fromisoformat(moment)
    with time_machine.travel(at, tick=False):
        connected.travel_to(at)
        reply = client_as("member").get("/usage/current?fresh=1", headers=CURRENT)
    return reply.get_data(as_text=True)


def _comparison(html: str) -> str | None:
    found = re.search(r'<p class="usage-compare"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


def test_days_are_counted_in_the_customer_s_zone():
    january = datetime(2030, 1, 1, tzinfo=UTC)
    assert days_in(january, datetime(2030, 1, 31, 23, 59, 59, tzinfo=UTC), "UTC") == 31
    february = datetime(2030, 2, 1, tzinfo=UTC)
    assert days_in(february, datetime(2030, 2, 28, 23, 59, 59, tzinfo=UTC), "UTC") == 28
    assert day_of(february, datetime(2030, 2, 28, 23, 59, tzinfo=UTC), "UTC") == 28
    # New York's February starts at 05:00 UTC; 04:00 UTC on 1 March is still its 28th.
    new_york = datetime(2030, 2, 1, 5, tzinfo=UTC)
    assert day_of(new_york, datetime(2030, 3, 1, 4, tzinfo=UTC), "America/New_York") == 28


def test_a_shorter_period_compares_day_by_day_and_a_longer_one_with_its_last_day(
    app, client_as, connected
):
    send_calls(connected, "jan-a", 3, code="seats")  # $15
    first = _read(client_as, connected, "2030-01-28T12:00:00+00:00")
    assert "usage-compare" not in first  # no earlier period to compare with
    send_calls(connected, "jan-b", 1, code="seats")  # $20 by 31 January
    _read(client_as, connected, "2030-01-31T18:00:00+00:00")

    # February (28 days) against January (31) at day 28.
    connected.travel_to("2030-02-28T11:00:00Z")
    send_calls(connected, "feb", 2, code="seats")  # $10
    february = _read(client_as, connected, "2030-02-28T12:00:00+00:00")
    assert _comparison(february) == "Day 28 of 28: $10.00 now, $15.00 at day 28 last period."

    # March (31 days) at day 30 against February, which ended at day 28.
    connected.travel_to("2030-03-30T11:00:00Z")
    send_calls(connected, "mar", 5, code="seats")  # $25
    march = _read(client_as, connected, "2030-03-30T12:00:00+00:00")
    assert _comparison(march) == (
        "Day 30 of 31: $25.00 now, $10.00 at the end of last period (day 28 of 28)."
    )
    with app.app_context():
        days = db.session.execute(
            sa.select(UsageDay.period_start, UsageDay.day, UsageDay.amount_cents).order_by(
                UsageDay.period_start, UsageDay.day
            )
        ).all()
    assert [(start.month, day, cents) for start, day, cents in days] == [
        (1, 28, 1500),
        (1, 31, 2000),
        (2, 28, 1000),
        (3, 30, 2500),
    ]


def test_a_day_pier_did_not_read_last_period_is_not_guessed(app, client_as, connected):
    send_calls(connected, "jan", 2, code="seats")
    _read(client_as, connected, "2030-01-20T12:00:00+00:00")
    html = _read(client_as, connected, "2030-02-15T12:00:00+00:00")  # no reading on 15 January
    assert _comparison(html) is None
    assert "Day 15 of 28: no figure from day 15 of last period" in html


def test_the_hourly_job_records_every_subscribed_tenant(app, subscribed, connected):
    send_calls(connected, "a", 1, code="seats")
    moment = datetime(2030, 1, 5, 10, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        connected.travel_to(moment)
        use_app(app)
        assert record_usage_days() == 1
        assert record_usage_days() == 1  # the same day again: one row, the latest figure
    with app.app_context():
        rows = db.session.execute(sa.select(UsageDay.day, UsageDay.amount_cents)).all()
    assert rows == [(5, 500)]
