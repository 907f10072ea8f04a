"""The plans file reader, the seed's comparison with Lago, and CSV cells a spreadsheet won't run."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.admin.tenant_export import safe_cell
from portal.admin.tenant_list import monthly_cents
from portal.billing.plan_seeding import plan_differences, same
from portal.billing.seed_file import SeedFileError, read_seed_file

EXAMPLE = Path(__file__).parents[2] / "examples" / "plans.yaml"


def problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "plans.yaml"
    path.write_text(text)
    with pytest.raises(SeedFileError) as caught:
        read_seed_file(path)
    return caught.value.problems


def test_the_example_file_reads_as_lago_payloads():
    seed = read_seed_file(EXAMPLE)
    assert [m["code"] for m in seed.metrics] == ["api_calls", "storage_gb"]
    assert [p["code"] for p in seed.plans] == ["starter", "pro"]
    assert seed.plans[1]["charges"][1]["properties"]["graduated_ranges"][1]["to_value"] is None
    assert type(seed.plans[0]) is dict  # no line bookkeeping left in the payloads


def test_wrong_shapes_are_named_by_line_and_position(tmp_path):
    assert problems(tmp_path, "plans:\n  - just text\n  - code: x\n    name: X\n") == [
        "line 1: plans[0]: must be a mapping of keys and values",
        "line 3: plans[1]: interval is required",
        "line 3: plans[1]: amount_currency is required",
        "line 3: plans[1]: amount_cents is required",
    ]
    charges = "plans:\n  - {code: p, name: P, interval: monthly, amount_cents: 1,\n"
    charges += "     amount_currency: USD, charges: nope, trial_period: true}\n"
    assert problems(tmp_path, charges) == [
        "line 3: plans[0].charges: must be a list",
        "line 3: plans[0].trial_period: must be a number",
    ]
    assert problems(tmp_path, "plans:\n  ? [a, b]\n  : 1\n") == [
        "line 2: not valid YAML: the key ['a', 'b'] is not a name"
    ]
    assert problems(tmp_path, "- a list\n") == [
        "the file must be a mapping with billable_metrics and/or plans"
    ]
    assert problems(tmp_path, "plans: [unclosed\n")[0].startswith("line 2: not valid YAML")


def test_lago_values_compare_by_meaning_and_only_on_the_files_keys():
    assert same("0.50", "0.5") and same(14, 14.0) and same({"a": "1"}, {"a": 1, "b": 2})
    assert not same("0.50", "0.51") and not same("monthly", "yearly")
    assert not same([1, 2], [1]) and not same({"a": 1}, {}) and not same("x", None)
    wanted = {
        "code": "pro",
        "amount_cents": 9900,
        "charges": [{"billable_metric": "api", "charge_model": "standard", "properties": {}}],
    }
    lago = {
        "code": "pro",
        "amount_cents": 9900,
        "interval": "monthly",
        "charges": [
            {
                "billable_metric_code": "api",
                "charge_model": "standard",
                "properties": {"amount": "0"},
            }
        ],
    }
    assert plan_differences(wanted, lago) == []
    assert plan_differences(wanted | {"amount_cents": 100}, lago) == ["amount_cents"]
    extra = lago | {"charges": lago["charges"] * 2}
    assert plan_differences(wanted, extra) == ["charges"]  # Lago has a charge the file drops
    without = {k: v for k, v in wanted.items() if k != "charges"}
    assert plan_differences(without, extra) == []  # no `charges` in the file: Lago's stay


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted():
    assert [safe_cell(v) for v in ("=1+1", "+44", "-2", "@SUM(A1)", "\tx", "Acme", None, 5)] == [
        "'=1+1",
        "'+44",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "Acme",
        "",
        "5",
    ]


def test_monthly_revenue_of_each_interval():
    assert [
        monthly_cents(1200, interval)
        for interval in ("weekly", "monthly", "quarterly", "semiannual", "yearly")
    ] == [5200, 1200, 400, 200, 100]
    assert monthly_cents(1000, "quarterly") == 333 and monthly_cents(1000, "semiannual") == 167
