"""`flask lago seed-plans FILE` against the live stand-in, on both databases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.billing.test_lago_cli import invoke

EXAMPLE = Path(__file__).parents[3] / "examples" / "plans.yaml"


@pytest.fixture
def connected_cli(app, lago_standin):
    result = invoke(
        app, "lago", "connect", "--url", lago_standin.url, "--api-key", lago_standin.api_key
    )
    assert result.exit_code == 0, result.output
    return lago_standin


def lago_get(standin, path: str) -> dict:
    with standin.client() as lago:
        response = lago.get(path)
        assert response.status_code == 200, response.text
        return response.json()


def test_seeding_twice_creates_then_changes_nothing(app, connected_cli, tmp_path):
    plans_file = tmp_path / "plans.yaml"
    shutil.copy(EXAMPLE, plans_file)

    first = invoke(app, "lago", "seed-plans", str(plans_file))
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "  created    billable metric api_calls",
        "  created    billable metric storage_gb",
        "  created    plan starter",
        "  created    plan pro",
        "Billable metrics and plans: 4 created, 0 updated, 0 unchanged.",
    ]
    pro = lago_get(connected_cli, "/plans/pro")["plan"]
    assert pro["amount_cents"] == 9900
    assert [(c["billable_metric_code"], c["charge_model"]) for c in pro["charges"]] == [
        ("api_calls", "standard"),
        ("storage_gb", "graduated"),
    ]
    storage = lago_get(connected_cli, "/billable_metrics/storage_gb")["billable_metric"]
    assert storage["field_name"] == "gb"
    assert storage["filters"] == [{"key": "region", "values": ["eu", "us"]}]

    second = invoke(app, "lago", "seed-plans", str(plans_file))
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1] == (
        "Billable metrics and plans: 0 created, 0 updated, 4 unchanged."
    )
    assert lago_get(connected_cli, "/plans/pro")["plan"] == pro  # not even touched

    changed = plans_file.read_text().replace("amount_cents: 9900", "amount_cents: 12900")
    changed = changed.replace("description: One event per API request.", "description: Requests.")
    plans_file.write_text(changed)
    third = invoke(app, "lago", "seed-plans", str(plans_file))
    assert third.exit_code == 0, third.output
    assert "  updated    billable metric api_calls" in third.output
    assert "  updated    plan pro" in third.output
    assert third.output.splitlines()[-1] == (
        "Billable metrics and plans: 0 created, 2 updated, 2 unchanged."
    )
    after = lago_get(connected_cli, "/plans/pro")["plan"]
    assert after["amount_cents"] == 12900
    # The charges were edited in place: same Lago ids, no new charge.
    assert [c["lago_id"] for c in after["charges"]] == [c["lago_id"] for c in pro["charges"]]


def test_a_metric_a_plan_charges_keeps_how_it_counts_and_the_seed_says_so(
    app, connected_cli, tmp_path
):
    plans_file = tmp_path / "plans.yaml"
    shutil.copy(EXAMPLE, plans_file)
    assert invoke(app, "lago", "seed-plans", str(plans_file)).exit_code == 0
    plans_file.write_text(
        plans_file.read_text().replace("aggregation_type: max_agg", "aggregation_type: sum_agg")
    )
    result = invoke(app, "lago", "seed-plans", str(plans_file))
    assert result.exit_code == 0, result.output
    assert (
        "Warning: billable metric storage_gb: Lago kept its aggregation_type: a plan charges this "
        "metric, and Lago then changes only its name, description and filters."
    ) in result.output
    metric = lago_get(connected_cli, "/billable_metrics/storage_gb")["billable_metric"]
    assert metric["aggregation_type"] == "max_agg"


BAD_FILE = """\
billable_metrics:
  - code: api_calls
    name: API calls
    aggregation_type: count_all
  - code: seats
    name: Seats
    aggregation_type: unique_count_agg
plans:
  - code: starter
    name: Starter
    interval: monthly
    amount_cents: "19"
    amount_currency: usd
    colour: blue
    charges:
      - billable_metric: api_calls
        charge_model: flat
  - code: starter
    name: Again
    interval: fortnightly
    amount_cents: 100
    amount_currency: USD
"""


def test_a_bad_file_names_each_problem_by_line_and_key_and_changes_nothing(
    app, connected_cli, tmp_path
):
    plans_file = tmp_path / "plans.yaml"
    plans_file.write_text(BAD_FILE)
    result = invoke(app, "lago", "seed-plans", str(plans_file))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: {plans_file} was not applied:",
        "  line 4: billable_metrics[0] (api_calls).aggregation_type: must be one of count_agg, "
        "sum_agg, max_agg, unique_count_agg, weighted_sum_agg, latest_agg",
        "  line 5: billable_metrics[1] (seats): field_name is required for unique_count_agg",
        "  line 12: plans[0].amount_cents: must be a whole number",
        "  line 13: plans[0] (starter).amount_currency: must be an ISO code like USD",
        "  line 14: plans[0].colour: unknown key (allowed: code, name, interval, amount_cents, "
        "amount_currency, description, invoice_display_name, trial_period, pay_in_advance, "
        "charges)",
        "  line 17: plans[0] (starter).charges[0].charge_model: must be one of standard, "
        "graduated, graduated_percentage, package, percentage, volume, dynamic",
        "  line 18: plans[1]: the code starter is used twice",
        "  line 20: plans[1] (starter).interval: must be one of weekly, monthly, quarterly, "
        "semiannual, yearly",
    ]
    assert lago_get(connected_cli, "/billable_metrics")["billable_metrics"] == []

    plans_file.write_text("plans:\n  - code: x\n    code: y\n")
    duplicate = invoke(app, "lago", "seed-plans", str(plans_file))
    assert duplicate.exit_code == 1
    assert "line 3: not valid YAML: the key 'code' appears twice" in duplicate.output

    plans_file.write_text(
        "plans:\n  - code: pro\n    name: Pro\n    interval: monthly\n"
        "    amount_cents: 1\n    amount_currency: USD\n    charges:\n"
        "      - {billable_metric: ghosts, charge_model: standard}\n"
    )
    unknown = invoke(app, "lago", "seed-plans", str(plans_file))
    assert unknown.exit_code == 1
    assert "plans (pro): the billable metric ghosts is neither in the file nor in Lago" in (
        unknown.output
    )
    assert invoke(app, "lago", "seed-plans", str(tmp_path / "missing.yaml")).exit_code == 1


def test_seeding_needs_a_connection(app, tmp_path):
    plans_file = tmp_path / "plans.yaml"
    shutil.copy(EXAMPLE, plans_file)
    result = invoke(app, "lago", "seed-plans", str(plans_file))
    assert result.exit_code == 1
    assert "Billing is not connected yet." in result.output
