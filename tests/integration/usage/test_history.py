"""Past periods: Lago's billed usage per period, drawn as a chart and listed in a table."""

from __future__ import annotations

import json
import re

from tests.integration.usage.conftest import send_calls

HISTORY = {"HX-Request": "true", "HX-Target": "usage-history"}


def bill_two_periods(standin) -> None:
    """3 seats and 150 API calls in January, 2 seats in February; each period billed."""
    send_calls(standin, "jan-seat", 3, code="seats")
    send_calls(standin, "jan", 150)
    standin.travel_to("2030-02-01T01:00:00Z")
    send_calls(standin, "feb-seat", 2, code="seats")
    standin.travel_to("2030-03-01T01:00:00Z")


def chart_and_table(html: str) -> tuple[dict, list[tuple[str, str]], list[str]]:
    data = json.loads(re.search(r'id="usage-chart-data">(.*?)</script>', html, re.S).group(1))
    rows = re.findall(r'<tr data-period="([^"]*)" data-amount="(\d+)">', html)
    units = re.findall(r'data-units="([^"]+)"', html)
    return data, rows, units


def test_each_billed_period_once_with_the_same_figures_in_chart_and_table(client_as, connected):
    bill_two_periods(connected)
    html = client_as("member").get("/usage/history", headers=HISTORY).get_data(as_text=True)
    assert html.lstrip().startswith('<section id="usage-history"')
    data, rows, units = chart_and_table(html)
    assert rows == [("2030-01-10", "1500"), ("2030-02-01", "1000")]
    assert data["labels"] == ["2030-01-10", "2030-02-01"]
    assert data["amounts"] == [15.0, 10.0]
    by_code = {m["code"]: m["units"] for m in data["metrics"]}
    assert by_code == {"api_calls": [150.0, 0.0], "seats": [3.0, 2.0]}
    assert [float(u) for u in units] == [150, 3, 0, 2]
    assert "$15.00" in html and "$10.00" in html


def test_no_billed_period_yet(client_as):
    html = client_as("member").get("/usage/history", headers=HISTORY).get_data(as_text=True)
    assert "No billed period yet" in html
    assert 'id="usage-chart"' not in html
