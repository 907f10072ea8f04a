"""Features and plan entitlements, in lago-api's shapes (responses checked against the spec)."""

from __future__ import annotations

import json

from tests.sandbox.billing_helpers import add_endpoint
from tests.sandbox.test_plans import plan_body

SEATS = {
    "code": "seats",
    "name": "Team seats",
    "description": "People who can sign in",
    "privileges": [
        {"code": "max", "name": "Maximum", "value_type": "integer"},
        {"code": "root", "name": "Root user", "value_type": "boolean"},
        {
            "code": "provider",
            "name": "Provider",
            "value_type": "select",
            "config": {"select_options": ["google", "okta"]},
        },
    ],
}


def create_feature(client, body=SEATS):
    reply = client.post("/features", json={"feature": body})
    assert reply.status_code == 200, reply.text
    return reply.json()["feature"]


def test_feature_create_get_list_and_rules(lago_standin):
    with lago_standin.client() as client:
        feature = create_feature(client)
        got = client.get("/features/seats").json()["feature"]
        listed = client.get("/features").json()
        taken = client.post("/features", json={"feature": {"code": "seats"}})
        bad_select = client.post(
            "/features",
            json={
                "feature": {
                    "code": "sso",
                    "privileges": [{"code": "p", "value_type": "select", "config": {}}],
                }
            },
        )
        twice = client.post(
            "/features",
            json={"feature": {"code": "sso", "privileges": [{"code": "p"}, {"code": "p"}]}},
        )
        missing = client.get("/features/nope")
    assert feature["privileges"][0] == {
        "code": "max",
        "name": "Maximum",
        "value_type": "integer",
        "config": {},
    }
    assert feature["privileges"][2]["config"] == {"select_options": ["google", "okta"]}
    assert got == feature
    assert [f["code"] for f in listed["features"]] == ["seats"]
    assert listed["meta"]["total_count"] == 1
    assert taken.status_code == 422
    assert taken.json()["error_details"] == {"code": ["value_already_exist"]}
    assert bad_select.status_code == 422
    assert bad_select.json()["error_details"] == {"privilege.config": ["invalid_format"]}
    assert twice.json()["error_details"] == {"privilege.code": ["value_is_duplicated"]}
    assert missing.status_code == 404 and missing.json()["code"] == "feature_not_found"


def test_plan_entitlements_replace_update_get_and_delete(lago_standin):
    with lago_standin.client() as client:
        create_feature(client)
        create_feature(client, {"code": "sso", "name": "SSO", "privileges": []})
        assert client.post("/plans", json={"plan": plan_body("pro")}).status_code == 200
        replaced = client.post(
            "/plans/pro/entitlements",
            json={"entitlements": {"seats": {"max": "20", "root": "true"}, "sso": {}}},
        ).json()["entitlements"]
        patched = client.patch(
            "/plans/pro/entitlements",
            json={"entitlements": {"seats": {"max": 25, "provider": "okta"}}},
        ).json()["entitlements"]
        plan = client.get("/plans/pro").json()["plan"]
        one = client.get("/plans/pro/entitlements/seats").json()["entitlement"]
        again = client.post(
            "/plans/pro/entitlements", json={"entitlements": {"seats": {"max": 5}}}
        ).json()["entitlements"]
        removed = client.delete("/plans/pro/entitlements/seats")
        after = client.get("/plans/pro/entitlements").json()["entitlements"]
        gone = client.get("/plans/pro/entitlements/seats")
    assert replaced == [
        {
            "code": "seats",
            "name": "Team seats",
            "description": "People who can sign in",
            "privileges": [
                {
                    "code": "max",
                    "name": "Maximum",
                    "value_type": "integer",
                    "value": 20,
                    "config": {},
                },
                {
                    "code": "root",
                    "name": "Root user",
                    "value_type": "boolean",
                    "value": True,
                    "config": {},
                },
            ],
        },
        {"code": "sso", "name": "SSO", "description": None, "privileges": []},
    ]
    seats = {p["code"]: p["value"] for p in patched[0]["privileges"]}
    assert seats == {"max": 25, "root": True, "provider": "okta"}
    assert plan["entitlements"] == patched
    assert one == patched[0]
    # A replace keeps only the named features and, for them, only the named privileges.
    assert [(e["code"], [p["code"] for p in e["privileges"]]) for e in again] == [
        ("seats", ["max"])
    ]
    assert removed.status_code == 200 and removed.json()["entitlement"]["code"] == "seats"
    assert after == []
    assert gone.status_code == 404 and gone.json()["code"] == "entitlement_not_found"


def test_plan_entitlement_refusals(lago_standin):
    with lago_standin.client() as client:
        create_feature(client)
        client.post("/plans", json={"plan": plan_body("pro")})

        def patch(entitlements):
            return client.patch("/plans/pro/entitlements", json={"entitlements": entitlements})

        unknown_feature = patch({"nope": {}})
        unknown_privilege = patch({"seats": {"nope": 1}})
        bad_integer = patch({"seats": {"max": "ten"}})
        bad_option = patch({"seats": {"provider": "github"}})
        unknown_plan = client.get("/plans/nope/entitlements")
        untouched = client.get("/plans/pro").json()["plan"]["entitlements"]
    assert unknown_feature.status_code == 404
    assert unknown_feature.json()["code"] == "feature_not_found"
    assert unknown_privilege.json()["code"] == "privilege_not_found"
    assert bad_integer.status_code == 422
    assert bad_integer.json()["error_details"] == {"max_privilege_value": ["value_is_invalid"]}
    assert bad_option.json()["error_details"] == {
        "provider_privilege_value": ["value_not_in_select_options"]
    }
    assert unknown_plan.status_code == 404
    assert untouched == []


def _sent(lago_standin) -> list[tuple[str, list[str]]]:
    """The webhooks sent so far: type, and for a plan the codes of its entitlements."""
    sent = []
    for record in lago_standin.webhooks():
        plan = json.loads(record["payload"]).get("plan") or {}
        sent.append((record["webhook_type"], [e["code"] for e in plan.get("entitlements", [])]))
    return sent


def _pro_with_seats(client, webhook_url: str) -> None:
    """A webhook endpoint, the seats feature, and Pro granting three seats."""
    add_endpoint(client, webhook_url)
    create_feature(client)
    client.post("/plans", json={"plan": plan_body("pro")}).raise_for_status()
    seats = {"entitlements": {"seats": {"max": 3}}}
    client.post("/plans/pro/entitlements", json=seats).raise_for_status()


def test_deleting_a_feature_takes_it_off_every_plan(lago_standin, receiver):
    with lago_standin.client() as client:
        _pro_with_seats(client, receiver().url)
        deleted = client.delete("/features/seats")
        plan = client.get("/plans/pro").json()["plan"]
        listed = client.get("/features").json()["features"]
    assert deleted.status_code == 200
    assert plan["entitlements"] == []
    assert listed == []
    assert _sent(lago_standin) == [
        ("feature.created", []),
        ("plan.created", []),
        ("plan.updated", ["seats"]),
        ("plan.updated", []),
        ("feature.deleted", []),
    ]


def test_removing_an_entitlement_sends_plan_updated(lago_standin, receiver):
    with lago_standin.client() as client:
        _pro_with_seats(client, receiver().url)
        client.delete("/plans/pro/entitlements/seats").raise_for_status()
    assert _sent(lago_standin)[-2:] == [("plan.updated", ["seats"]), ("plan.updated", [])]


def test_demo_plans_grant_features(lago_standin):
    lago_standin.seed()
    with lago_standin.client() as client:
        plans = {p["code"]: p for p in client.get("/plans").json()["plans"]}
    granted = {
        code: {
            e["code"]: {p["code"]: p["value"] for p in e["privileges"]}
            for e in plan["entitlements"]
        }
        for code, plan in plans.items()
    }
    assert granted == {
        "starter": {"seats": {"max": 3, "max_admins": 1}},
        "pro": {
            "seats": {"max": 20, "max_admins": 5},
            "audit_log": {"retention_days": 30, "export": False},
        },
        "business": {
            "seats": {"max": 100, "max_admins": 20},
            "sso": {"provider": "okta"},
            "audit_log": {"retention_days": 365, "export": True},
        },
    }
    assert plans["business"]["entitlements"][1]["name"] == "Single sign-on"
