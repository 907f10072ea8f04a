"""Billable metrics and plans with charges; the demo catalogue."""

from __future__ import annotations


def create_metric(client, code="api_calls", **fields):
    body = {"name": code.replace("_", " ").title(), "code": code, "aggregation_type": "count_agg"}
    reply = client.post("/billable_metrics", json={"billable_metric": body | fields})
    assert reply.status_code == 200, reply.text
    return reply.json()["billable_metric"]


def plan_body(code="starter", **fields):
    return {
        "name": code.title(),
        "code": code,
        "interval": "monthly",
        "amount_cents": 1900,
        "amount_currency": "USD",
        "pay_in_advance": True,
    } | fields


def test_metric_create_get_list_and_rules(lago_standin):
    with lago_standin.client() as client:
        metric = create_metric(
            client,
            "seats",
            aggregation_type="unique_count_agg",
            field_name="user_id",
            recurring=True,
        )
        assert client.get("/billable_metrics/seats").json()["billable_metric"] == metric
        listed = client.get("/billable_metrics").json()
        taken = client.post(
            "/billable_metrics",
            json={
                "billable_metric": {"name": "Seats", "code": "seats", "aggregation_type": "sum_agg"}
            },
        )
    assert metric["recurring"] is True
    assert metric["filters"] == []
    assert listed["meta"]["total_count"] == 1
    assert taken.status_code == 422
    assert taken.json()["error_details"] == {
        "field_name": ["value_is_mandatory"],
        "code": ["value_already_exist"],
    }


def test_plan_with_charges_is_shaped_like_plan_object(lago_standin):
    with lago_standin.client() as client:
        metric = create_metric(client)
        reply = client.post(
            "/plans",
            json={
                "plan": plan_body(
                    trial_period=14,
                    charges=[
                        {
                            "billable_metric_id": metric["lago_id"],
                            "charge_model": "standard",
                            "properties": {"amount": "0.01"},
                            "invoice_display_name": "Calls",
                        },
                        {"billable_metric_id": metric["lago_id"], "charge_model": "package"},
                    ],
                )
            },
        )
    assert reply.status_code == 200, reply.text
    plan = reply.json()["plan"]
    assert plan["trial_period"] == 14.0
    assert plan["interval"] == "monthly"
    assert plan["bill_charges_monthly"] is None
    assert plan["pending_deletion"] is False
    standard, package = plan["charges"]
    assert standard["billable_metric_code"] == "api_calls"
    assert standard["lago_billable_metric_id"] == metric["lago_id"]
    assert standard["properties"] == {"amount": "0.01"}
    assert standard["invoiceable"] is True
    assert standard["regroup_paid_fees"] is None
    assert package["properties"] == {"amount": "0", "free_units": 0, "package_size": 1}


def test_plan_errors(lago_standin):
    with lago_standin.client() as client:
        missing_metric = client.post(
            "/plans",
            json={
                "plan": plan_body(
                    charges=[
                        {
                            "billable_metric_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
                            "charge_model": "standard",
                        }
                    ]
                )
            },
        )
        metric = create_metric(client)
        bad_amount = client.post(
            "/plans",
            json={
                "plan": plan_body(
                    charges=[
                        {
                            "billable_metric_id": metric["lago_id"],
                            "charge_model": "standard",
                            "properties": {"amount": "1x5"},
                        }
                    ]
                )
            },
        )
    assert missing_metric.status_code == 404
    assert missing_metric.json()["code"] == "billable_metric_not_found"
    # The spec pattern ^[0-9]+.?[0-9]*$ accepts "1x5"; Lago's amount validator does not.
    assert bad_amount.status_code == 422
    assert bad_amount.json()["error_details"] == {"amount": ["invalid_amount"]}


def test_plan_update_and_delete(lago_standin):
    with lago_standin.client() as client:
        metric = create_metric(client)
        created = client.post(
            "/plans",
            json={
                "plan": plan_body(
                    charges=[
                        {
                            "billable_metric_id": metric["lago_id"],
                            "charge_model": "standard",
                            "properties": {"amount": "1"},
                        }
                    ]
                )
            },
        ).json()["plan"]
        charge_id = created["charges"][0]["lago_id"]
        updated = client.put(
            "/plans/starter",
            json={
                "plan": {
                    "name": "Starter 2",
                    "charges": [
                        {"id": charge_id, "properties": {"amount": "2"}},
                        {
                            "billable_metric_id": metric["lago_id"],
                            "charge_model": "percentage",
                            "properties": {"rate": "1.5"},
                        },
                    ],
                }
            },
        ).json()["plan"]
        deleted = client.delete("/plans/starter")
        after = client.get("/plans/starter")
    assert updated["name"] == "Starter 2"
    assert updated["amount_cents"] == 1900
    assert [c["charge_model"] for c in updated["charges"]] == ["standard", "percentage"]
    assert updated["charges"][0]["lago_id"] == charge_id
    assert updated["charges"][0]["properties"] == {"amount": "2"}
    assert deleted.status_code == 200
    assert deleted.json()["plan"]["pending_deletion"] is True
    assert after.json()["code"] == "plan_not_found"


def test_seeded_catalogue(lago_standin):
    lago_standin.seed()
    with lago_standin.client() as client:
        body = client.get("/plans", params={"per_page": 10}).json()
    plans = {p["code"]: p for p in body["plans"]}
    assert [p["code"] for p in body["plans"]] == ["business", "pro", "starter"]
    assert plans["starter"]["trial_period"] == 14.0
    assert plans["pro"]["trial_period"] is None
    assert {p["amount_currency"] for p in plans.values()} == {"USD"}
    assert [p["amount_cents"] for p in body["plans"]] == [9900, 2900, 900]
    assert [len(p["charges"]) for p in body["plans"]] == [3, 2, 1]
    assert lago_standin.seed() == {"billable_metrics": [], "features": [], "plans": []}


def test_metric_update_keeps_how_it_counts_once_a_plan_charges_it(lago_standin):
    with lago_standin.client() as client:
        metric = create_metric(client, "storage", aggregation_type="max_agg", field_name="gb")
        free = client.put(
            "/billable_metrics/storage",
            json={"billable_metric": {"description": "GB stored", "field_name": "bytes"}},
        )
        assert free.status_code == 200, free.text
        assert free.json()["billable_metric"]["field_name"] == "bytes"
        assert free.json()["billable_metric"]["description"] == "GB stored"

        charge = {"billable_metric_id": metric["lago_id"], "charge_model": "standard"}
        plan = client.post("/plans", json={"plan": plan_body(charges=[charge])})
        assert plan.status_code == 200, plan.text
        kept = client.put(
            "/billable_metrics/storage",
            json={"billable_metric": {"name": "Disk", "aggregation_type": "sum_agg"}},
        )
        assert kept.status_code == 200, kept.text
        updated = kept.json()["billable_metric"]
        assert (updated["name"], updated["aggregation_type"]) == ("Disk", "max_agg")

        assert (
            client.put("/billable_metrics/ghost", json={"billable_metric": {}}).status_code == 404
        )
