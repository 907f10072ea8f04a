"""The usage page: this period by metric, loaded lazily, cached briefly, refreshed on demand."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine

from portal.extensions import db
from portal.models import SubscriptionMirror
from tests.integration.usage.conftest import CURRENT, send_calls


def _row(html: str, metric: str) -> list[str]:
    row = re.search(rf'<tr data-metric="{metric}">(.*?)</tr>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>|\s+", " ", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    ]


def test_the_page_loads_its_usage_lazily(client_as):
    page = client_as("member").get("/usage/").get_data(as_text=True)
    assert 'hx-trigger="load"' in page and "Reading your usage" in page
    assert 'data-metric="api_calls"' not in page


def test_units_amounts_and_what_the_plan_includes(client_as, connected):
    send_calls(connected, "a", 250)
    html = client_as("member").get("/usage/current", headers=CURRENT).get_data(as_text=True)
    assert html.lstrip().startswith('<section id="usage-current"')
    # Pro includes 100,000 API calls at no charge and prices seats per unit.
    metric, units, included, left, amount = _row(html, "api_calls")
    assert (metric, units, included, amount) == ("API calls", "250", "100,000", "$0.00")
    assert left.startswith("99,750")
    assert _row(html, "seats")[1:] == ["0", "—", "—", "$0.00"]
    assert "As of" in html


def test_usage_is_cached_briefly_and_refresh_reads_lago_again(client_as, connected):
    client = client_as("member")
    send_calls(connected, "a", 3)
    assert (
        _row(client.get("/usage/current", headers=CURRENT).get_data(as_text=True), "api_calls")[1]
        == "3"
    )
    send_calls(connected, "b", 4)
    cached = client.get("/usage/current", headers=CURRENT).get_data(as_text=True)
    assert _row(cached, "api_calls")[1] == "3"
    fresh = client.get("/usage/current?fresh=1", headers=CURRENT).get_data(as_text=True)
    assert _row(fresh, "api_calls")[1] == "7"


def test_no_subscription_is_no_usage_yet(app, client_as, subscribed):
    with app.app_context():
        db.session.execute(db.delete(SubscriptionMirror))
        db.session.commit()
    html = client_as("member").get("/usage/current", headers=CURRENT).get_data(as_text=True)
    assert "No usage yet: there is no active subscription." in html


def test_a_subscription_lago_no_longer_runs_is_no_usage_yet(client_as, connected):
    from tests.integration.handlers.support import lago_call
    from tests.integration.usage.conftest import SUBSCRIPTION

    lago_call(connected, "DELETE", f"/subscriptions/{SUBSCRIPTION}")
    html = client_as("member").get("/usage/current", headers=CURRENT).get_data(as_text=True)
    assert "No usage yet for this subscription this period." in html


def test_lago_down_says_so_in_the_part(client_as, connected):
    connected.set_faults(down="503", path_prefix="/api/v1/")
    response = client_as("member").get("/usage/current", headers=CURRENT)
    assert response.status_code == 200
    assert "Try again" in response.get_data(as_text=True)


def test_the_projection_is_pier_s_linear_estimate_labelled_as_such(client_as, connected):
    send_calls(connected, "seat", 2, code="seats")  # $10 of seats from 10 to 31 January
    # Pier and Lago read usage on 17 January, a week into the period.
    # Pier reads usage when a third of the period (7 of 22 days less 9 hours) has passed.
    seventeenth = datetime(2030, 1, 17, 9, 0, tzinfo=UTC)
    with time_machine.travel(seventeenth, tick=False):
        connected.travel_to(seventeenth)  # the stand-in's clock runs on the same (pinned) time
        html = client_as("member").get("/usage/current", headers=CURRENT).get_data(as_text=True)
    estimate = re.search(
        r'class="usage-projection" data-source="pier">.*?<strong>([^<]+)</strong>(.*?)</p>',
        html,
        re.S,
    )
    # The period runs 10 Jan 09:00 to 31 Jan 23:59:59, 21 days and 15 hours: $10 × 519 h / 168 h.
    assert estimate.group(1) == "$30.89"
    assert "Pier's estimate" in estimate.group(2)


def test_lago_s_projection_is_shown_where_lago_offers_it(client_as, connected, lago_settings):
    lago_settings(premium=True, premium_integrations=["preview", "projected_usage"])
    send_calls(connected, "seat", 2, code="seats")  # $10 of seats (a recurring metric)
    send_calls(connected, "call", 150)  # within the 100,000 free calls
    seventeenth = datetime(2030, 1, 17, 9, 0, tzinfo=UTC)
    with time_machine.travel(seventeenth, tick=False):
        connected.travel_to(seventeenth)
        html = client_as("member").get("/usage/current", headers=CURRENT).get_data(as_text=True)
    projection = re.search(
        r'class="usage-projection" data-source="(\w+)">.*?<strong>([^<]+)</strong>(.*?)</p>',
        html,
        re.S,
    )
    # Lago keeps a recurring metric's units to the end; API calls stay within the free ones.
    assert projection.groups()[:2] == ("lago", "$10.00")
    assert "the billing system's projection" in projection.group(3)
    # Per metric, Lago's projected units: 150 calls on day 8 of 22 make 412.5 by the end.
    assert _row(html, "api_calls") == ["API calls", "150", "412.5", "100,000", "99,850", "$0.00"]
    assert _row(html, "seats")[:3] == ["Seats", "2", "2"]


def test_without_lago_s_projection_pier_s_estimate_is_labelled(
    app, client_as, connected, lago_settings
):
    lago_settings(premium=True, premium_integrations=["preview"])  # no projected_usage
    send_calls(connected, "seat", 2, code="seats")
    seventeenth = datetime(2030, 1, 17, 9, 0, tzinfo=UTC)
    with time_machine.travel(seventeenth, tick=False):
        connected.travel_to(seventeenth)
        html = client_as("member").get("/usage/current", headers=CURRENT).get_data(as_text=True)
        assert 'data-source="pier"' in html and "Pier's estimate" in html
        assert "offers no projection" in html
        # Pier remembers the refusal for an hour rather than asking on every read.
        lago_settings(premium_integrations=["preview", "projected_usage"])
        again = client_as("member").get("/usage/current?fresh=1", headers=CURRENT)
        assert 'data-source="pier"' in again.get_data(as_text=True)
