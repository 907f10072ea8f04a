"""The plan catalogue: Lago's plans next to Pier's, import, change, removal, Pier-only fields."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, Plan
from tests.integration.billing.support import connect, text_of

PLANS = "/admin/plans"
SYNC = PLANS + "/sync"
LAGO_PART = PLANS + "/lago"


def lago_part(admin):
    """The "Lago compared with Pier" part, which the plans page loads lazily."""
    page = admin.get(PLANS).get_data(as_text=True)
    assert f'hx-get="{LAGO_PART}" hx-trigger="load"' in page
    return admin.get(LAGO_PART, headers={"HX-Request": "true", "HX-Target": "lago-plans"})


def plan_rows(admin) -> dict[str, str]:
    """Code -> status label of the "Lago compared with Pier" table."""
    section = lago_part(admin).get_data(as_text=True)
    assert "Pier's catalogue" not in section
    rows = re.findall(r"<tr>\s*<td><code>([^<]+)</code></td>(.*?)</tr>", section, flags=re.S)
    return {
        code: re.search(r'class="badge badge-diff-[a-z]+">([^<]+)<', row).group(1)
        for code, row in rows
    }


def pier_plans(app) -> dict[str, Plan]:
    with app.app_context():
        plans = db.session.scalars(sa.select(Plan).order_by(Plan.position)).all()
        for plan in plans:
            _ = plan.switch_targets
            db.session.expunge(plan)
        return {plan.code: plan for plan in plans}


def change_in_lago(lago_standin, code: str, **fields) -> None:
    with lago_standin.client() as lago:
        reply = lago.put(f"/plans/{code}", json={"plan": fields})
    assert reply.status_code == 200, reply.text


def test_new_plans_in_lago_are_listed_and_imported_one_then_all(app, admin, lago_standin):
    lago_standin.seed()
    connect(admin, lago_standin)

    assert plan_rows(admin) == {
        "business": "New in Lago",
        "pro": "New in Lago",
        "starter": "New in Lago",
    }
    assert "Starter · $9.00/monthly · 14-day trial" in text_of(lago_part(admin))
    assert "No plans imported yet." in text_of(admin.get(PLANS))

    one = admin.submit(SYNC, {"code": "pro", "import": "one"}, follow_redirects=True)
    assert "Plans synced: 1 imported, 0 updated, 0 removed." in text_of(one)
    assert set(pier_plans(app)) == {"pro"}
    assert plan_rows(admin)["pro"] == "Up to date"

    everything = admin.submit(SYNC, {"import": "all"}, follow_redirects=True)
    assert "Plans synced: 2 imported, 0 updated, 0 removed." in text_of(everything)
    assert plan_rows(admin) == dict.fromkeys(("business", "pro", "starter"), "Up to date")

    plans = pier_plans(app)
    starter = plans["starter"]
    assert (starter.name, starter.interval, starter.amount_cents, starter.currency) == (
        "Starter",
        "monthly",
        900,
        "USD",
    )
    assert starter.trial_period_days == 14.0 and starter.pay_in_advance is True
    assert [c["billable_metric_code"] for c in plans["business"].charges] == [
        "api_calls",
        "seats",
        "storage_gb",
    ]
    assert starter.lago_id and starter.visible and starter.synced_at
    assert [p.position for p in plans.values()] == [1, 2, 3]
    catalogue = text_of(admin.get(PLANS)).split("Pier's catalogue", 1)[1]
    for title in ("Starter", "Pro", "Business"):
        assert title in catalogue

    again = admin.submit(SYNC, {"import": "all"}, follow_redirects=True)
    assert "Plans synced: 0 imported, 0 updated, 0 removed." in text_of(again)


def test_a_plan_changed_in_lago_is_shown_then_mirrored(app, admin, lago_standin):
    lago_standin.seed()
    connect(admin, lago_standin)
    admin.submit(SYNC, {"import": "all"})

    change_in_lago(lago_standin, "pro", name="Pro 2025", amount_cents=3900, trial_period=7)
    assert plan_rows(admin)["pro"] == "Changed in Lago"
    page = lago_part(admin).get_data(as_text=True)
    assert "name, amount cents, trial period days" in page
    assert pier_plans(app)["pro"].amount_cents == 2900  # not mirrored before the update

    response = admin.submit(SYNC, {"code": "pro", "import": "one"}, follow_redirects=True)
    assert "Plans synced: 0 imported, 1 updated, 0 removed." in text_of(response)
    pro = pier_plans(app)["pro"]
    assert (pro.name, pro.amount_cents, pro.trial_period_days) == ("Pro 2025", 3900, 7.0)
    assert plan_rows(admin)["pro"] == "Up to date"


def granted(plan: Plan) -> dict[str, dict]:
    """Feature code -> {privilege code: value} of a plan's mirrored entitlements."""
    return {e["code"]: {p["code"]: p["value"] for p in e["privileges"]} for e in plan.entitlements}


def test_import_mirrors_lago_entitlements_and_a_sync_follows_their_changes(
    app, admin, lago_standin
):
    lago_standin.seed()
    connect(admin, lago_standin)
    admin.submit(SYNC, {"import": "all"})
    plans = pier_plans(app)
    assert granted(plans["pro"]) == {
        "seats": {"max": 20, "max_admins": 5},
        "audit_log": {"retention_days": 30, "export": False},
    }
    sso = plans["business"].entitlements[1]
    assert (sso["name"], sso["description"]) == (
        "Single sign-on",
        "Sign in through your identity provider",
    )
    assert sso["privileges"] == [
        {"code": "provider", "name": "Provider", "value_type": "select", "value": "okta"}
    ]

    with lago_standin.client() as lago:
        reply = lago.patch(
            "/plans/pro/entitlements",
            json={"entitlements": {"seats": {"max": 25}, "sso": {"provider": "google"}}},
        )
        assert reply.status_code == 200, reply.text
    assert plan_rows(admin)["pro"] == "Changed in Lago"
    assert "entitlements" in lago_part(admin).get_data(as_text=True)
    assert granted(pier_plans(app)["pro"])["seats"]["max"] == 20  # not before the sync
    edit = text_of(admin.get(f"{PLANS}/{pier_plans(app)['pro'].id}"))
    assert "what Lago grants on this plan" in edit
    assert "Team seats: Maximum 20, Admins 5" in edit

    response = admin.submit(SYNC, {"code": "pro", "import": "one"}, follow_redirects=True)
    assert "Plans synced: 0 imported, 1 updated, 0 removed." in text_of(response)
    assert granted(pier_plans(app)["pro"]) == {
        "seats": {"max": 25, "max_admins": 5},
        "audit_log": {"retention_days": 30, "export": False},
        "sso": {"provider": "google"},
    }
    with lago_standin.client() as lago:
        lago.delete("/plans/pro/entitlements/audit_log").raise_for_status()
    admin.submit(SYNC, {})
    assert set(granted(pier_plans(app)["pro"])) == {"seats", "sso"}
    assert plan_rows(admin)["pro"] == "Up to date"


def test_a_plan_deleted_in_lago_is_shown_as_removed_and_hidden(app, admin, lago_standin):
    lago_standin.seed()
    connect(admin, lago_standin)
    admin.submit(SYNC, {"import": "all"})

    with lago_standin.client() as lago:
        assert lago.delete("/plans/business").status_code == 200
    assert plan_rows(admin)["business"] == "Removed from Lago"
    assert pier_plans(app)["business"].visible is True  # nothing changes before a sync

    response = admin.submit(SYNC, {}, follow_redirects=True)  # "Sync now"
    assert "Plans synced: 0 imported, 0 updated, 1 removed." in text_of(response)
    business = pier_plans(app)["business"]
    assert business.visible is False and business.removed_from_lago_at is not None
    catalogue = response.get_data(as_text=True).split("Pier's catalogue", 1)[1]
    assert "Removed from Lago" in catalogue

    again = admin.submit(SYNC, {}, follow_redirects=True)
    assert "Plans synced: 0 imported, 0 updated, 0 removed." in text_of(again)
    with app.app_context():
        synced = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "plans.synced")
        ).all()
        assert synced[-1].after == {"imported": [], "updated": [], "removed": ["business"]}


def test_pier_only_fields_survive_a_re_sync(app, admin, lago_standin):
    lago_standin.seed()
    connect(admin, lago_standin)
    admin.submit(SYNC, {"import": "all"})
    plans = pier_plans(app)
    starter, pro, business = plans["starter"], plans["pro"], plans["business"]

    edit = f"{PLANS}/{pro.id}"
    form = admin.get(edit).get_data(as_text=True)
    assert "Leave blank to use the name from Lago: Pro" in form
    response = admin.submit(
        edit,
        {
            "display_name": "Pro for teams",
            "description": "Everything a team needs.",
            "features": "Unlimited projects\n\n  Priority support  \n",
            "position": "0",
            "visible": "y",
            "highlighted": "y",
            "switch_targets": [str(starter.id), str(business.id)],
        },
        follow_redirects=True,
    )
    assert "Pro for teams saved." in text_of(response)

    change_in_lago(lago_standin, "pro", name="Pro (2025)", amount_cents=4900)
    admin.submit(SYNC, {"import": "all"})
    admin.submit(SYNC, {})

    pro = pier_plans(app)["pro"]
    assert (pro.name, pro.amount_cents) == ("Pro (2025)", 4900)  # mirrored from Lago
    assert pro.display_name == "Pro for teams"
    assert pro.title == "Pro for teams"
    assert pro.description == "Everything a team needs."
    assert pro.features == ["Unlimited projects", "Priority support"]
    assert pro.position == 0
    assert pro.visible is True and pro.highlighted is True
    assert sorted(p.code for p in pro.switch_targets) == ["business", "starter"]
    assert list(pier_plans(app)) == ["pro", "business", "starter"]  # by position

    catalogue = text_of(admin.get(PLANS)).split("Pier's catalogue", 1)[1]
    assert "Pro for teams Highlighted pro $49.00/monthly Yes Business, Starter" in catalogue

    # Hiding a plan in Pier (switches off, no allowed switches) also survives the sync.
    hidden = admin.submit(
        edit,
        {"display_name": "Pro for teams", "description": "", "features": "", "position": "0"},
    )
    assert hidden.status_code == 303
    admin.submit(SYNC, {"import": "all"})
    pro = pier_plans(app)["pro"]
    assert pro.visible is False and pro.highlighted is False and pro.switch_targets == []


def test_creating_a_plan_in_pier_pushes_it_to_lago_only_when_plan_sync_is_on(
    app, admin, lago_standin
):
    connect(admin, lago_standin)
    new_plan = {
        "name": "Scale",
        "code": "scale",
        "interval": "yearly",
        "amount": "490.50",
        "currency": "EUR",
        "trial_days": "30",
        "description": "",
    }
    page = text_of(admin.get(PLANS))
    assert "Create a plan" not in page

    refused = admin.submit(PLANS + "/new", new_plan, follow_redirects=True)
    assert "Turn on “Plans created in Pier are created in Lago” first" in text_of(refused)
    with lago_standin.client() as lago:
        assert lago.get("/plans/scale").status_code == 404
    assert pier_plans(app) == {}

    behaviour = admin.submit(
        "/admin/settings/billing/behaviour",
        {
            "default_currency": "USD",
            "default_trial_days": "0",
            "default_plan_code": "",
            "auto_create_customers": "y",
            "sync_plans_to_lago": "y",
            "lago_sends_invoice_emails": "y",
            "overage_enabled": "y",
        },
        follow_redirects=True,
    )
    assert "Billing settings saved." in text_of(behaviour)
    assert "Create a plan" in text_of(admin.get(PLANS))

    created = admin.submit(PLANS + "/new", new_plan, follow_redirects=True)
    assert "Plan Scale created in Lago and added to the catalogue." in text_of(created)
    with lago_standin.client() as lago:
        in_lago = lago.get("/plans/scale").json()["plan"]
    assert (in_lago["name"], in_lago["interval"], in_lago["amount_cents"]) == (
        "Scale",
        "yearly",
        49050,
    )
    assert (in_lago["amount_currency"], in_lago["trial_period"]) == ("EUR", 30.0)
    scale = pier_plans(app)["scale"]
    assert (scale.lago_id, scale.amount_cents, scale.currency) == (in_lago["lago_id"], 49050, "EUR")
    assert plan_rows(admin) == {"scale": "Up to date"}

    duplicate = admin.submit(PLANS + "/new", new_plan)
    assert duplicate.status_code == 200
    assert "Lago did not accept the data: code is already used." in text_of(duplicate)
    assert list(pier_plans(app)) == ["scale"]


def test_the_plans_page_says_why_lago_cannot_be_read(app, admin, lago_standin):
    page = text_of(lago_part(admin))
    assert "Billing is not connected yet. A platform admin connects Lago in Settings" in page
    app.config["LAGO_MAX_RETRIES"] = 0  # the safe GET would otherwise be retried with backoff
    connect(admin, lago_standin)
    lago_standin.set_faults(down="close")
    page = text_of(lago_part(admin))
    lago_standin.clear_faults()
    assert "Lago could not be read: Lago closed the connection without answering." in page
