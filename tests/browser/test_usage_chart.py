"""The usage page draws the past periods with uPlot, and its table shows the same figures."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.integration.usage.conftest import (  # noqa: F401
    acme,
    connected,
    no_proxy,
    subscribed,
)
from tests.integration.usage.test_history import bill_two_periods


def test_the_usage_chart_renders_and_the_table_matches_it(
    page: Page,
    live_server,
    connected,  # noqa: F811
    subscribed,  # noqa: F811
):
    bill_two_periods(connected)
    page.goto("/login")
    page.get_by_label("Email").fill(subscribed.member)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/usage/")

    chart = page.locator("#usage-chart")
    expect(chart.locator("canvas")).to_be_visible()
    expect(page.locator("#usage-current .usage-metrics")).to_be_visible()
    drawn = page.evaluate("document.getElementById('usage-chart').chart.data")
    rows = page.locator("#usage-history-table tbody tr")
    expect(rows).to_have_count(2)
    table = [
        (row.get_attribute("data-period"), int(row.get_attribute("data-amount")) / 100)
        for row in rows.all()
    ]
    labels = page.evaluate(
        "JSON.parse(document.getElementById('usage-chart-data').textContent).labels"
    )
    assert (
        list(zip(labels, drawn[1], strict=True))
        == table
        == [
            ("2030-01-10", 15.0),
            ("2030-02-01", 10.0),
        ]
    )
    expect(rows.first.locator("td").first).to_have_text("$15.00")
