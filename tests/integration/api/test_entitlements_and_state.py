"""Entitlements and subscription state, answered from Pier's mirror."""

from __future__ import annotations

from jobs.usage import forward_due
from portal.billing.summary import summarize
from portal.extensions import db
from portal.models import BillingAccount, DunningState, Tenant, UsageSnapshot


def test_the_subscription_state_is_the_billing_home_s(app, api, subscribed):
    body = api.get(f"/tenants/{subscribed.external_id}/subscription").get_json()
    with app.app_context():
        summary = summarize(db.session.get(Tenant, subscribed.id))
        assert body["status"] == summary.status.value == "active"
        assert body["plan"] == {"code": "pro", "name": summary.plan_title}
    assert body["subscription"]["external_id"] == "acme-main"
    assert body["dunning"] == {"state": "ok", "since": None}


def test_dunning_shows_in_the_state_and_blocks_features(app, api, subscribed):
    with app.app_context():
        account = db.session.scalar(db.select(BillingAccount).filter_by(tenant_id=subscribed.id))
        account.dunning_state = DunningState.suspended
        db.session.commit()
    state = api.get(f"/tenants/{subscribed.external_id}/subscription").get_json()
    assert state["status"] == "suspended" and state["dunning"]["state"] == "suspended"
    answer = api.get(f"/tenants/{subscribed.external_id}/entitlements/api_calls").get_json()
    assert answer["allowed"] is False
    assert "suspended" in answer["reason"]


def test_a_metered_feature_answers_with_the_usage_lago_counted(app, api, subscribed, connected):
    before = api.get(f"/tenants/{subscribed.external_id}/entitlements/api_calls").get_json()
    assert (before["allowed"], before["source"]) == (True, "billable_metric")
    assert before["usage"]["as_of"] is None  # not fetched yet, and it says so
    moment = connected.now().isoformat()
    api.post(
        "/events/batch",
        json={
            "events": [
                {
                    "transaction_id": f"call-{n}",
                    "tenant_id": subscribed.external_id,
                    "code": "api_calls",
                    "timestamp": moment,
                }
                for n in range(7)
            ]
        },
    )
    assert forward_due()["sent"] == 7
    after = api.get(f"/tenants/{subscribed.external_id}/entitlements/api_calls").get_json()
    assert after["usage"]["units"] == "7"
    assert after["usage"]["as_of"] is not None
    with app.app_context():
        assert db.session.scalar(db.select(UsageSnapshot)).units["api_calls"] == "7"


def test_plan_features_and_unknown_ones(app, api, subscribed):
    with app.app_context():
        from portal.models import Plan

        plan = db.session.scalar(db.select(Plan).filter_by(code="pro"))
        plan.features = ["Priority support"]
        db.session.commit()
    listed = api.get(f"/tenants/{subscribed.external_id}/entitlements").get_json()["data"]
    assert [f["feature"] for f in listed] == ["api_calls", "seats", "audit_log", "Priority support"]
    line = api.get(f"/tenants/{subscribed.external_id}/entitlements/priority%20support").get_json()
    assert (line["allowed"], line["source"], line["usage"]) == (True, "plan_feature", None)
    unknown = api.get(f"/tenants/{subscribed.external_id}/entitlements/sso").get_json()
    assert (unknown["allowed"], unknown["source"]) == (False, "none")


def test_a_tenant_without_a_subscription_is_entitled_to_nothing(api):
    tenant = api.post("/tenants", json={"name": "Fresh Org"}).get_json()["tenant"]["id"]
    state = api.get(f"/tenants/{tenant}/subscription").get_json()
    assert (state["status"], state["plan"], state["subscription"]) == ("none", None, None)
    answer = api.get(f"/tenants/{tenant}/entitlements/api_calls").get_json()
    assert answer["allowed"] is False


def test_lago_entitlements_answer_with_the_plans_privileges(app, api, subscribed):
    seats = api.get(f"/tenants/{subscribed.external_id}/entitlements/seats").get_json()
    # Seats is both a billable metric of Pro and a Lago feature: Lago's entitlement answers,
    # and the metric's usage stays.
    assert (seats["allowed"], seats["source"], seats["name"]) == (
        True,
        "lago_entitlement",
        "Team seats",
    )
    assert seats["privileges"] == {"max": 20, "max_admins": 5}
    assert seats["usage"] is not None and seats["limit"] is None
    audit = api.get(f"/tenants/{subscribed.external_id}/entitlements/audit_log").get_json()
    assert audit["privileges"] == {"retention_days": 30, "export": False}
    assert audit["usage"] is None
    calls = api.get(f"/tenants/{subscribed.external_id}/entitlements/api_calls").get_json()
    assert (calls["source"], calls["privileges"], calls["name"]) == ("billable_metric", None, None)
    sso = api.get(f"/tenants/{subscribed.external_id}/entitlements/sso").get_json()
    assert (sso["allowed"], sso["source"]) == (False, "none")  # Business has it, Pro does not
    listed = api.get(f"/tenants/{subscribed.external_id}/entitlements").get_json()["data"]
    assert {f["feature"]: f["source"] for f in listed} == {
        "api_calls": "billable_metric",
        "seats": "lago_entitlement",
        "audit_log": "lago_entitlement",
    }
