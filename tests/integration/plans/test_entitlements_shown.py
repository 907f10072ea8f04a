"""Lago's plan entitlements on the plans page, in the preview and in the cancel dialog."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.billing import catalogue
from portal.billing.connection import lago_client
from portal.extensions import db
from portal.models import Plan

BLOCK = {"HX-Request": "true", "HX-Target": "plan-preview"}


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def _card(response, code: str) -> str:
    html = response.get_data(as_text=True)
    found = re.search(
        rf'<article class="plan-card[^"]*" data-plan="{code}">(.*?)</article>', html, re.S
    )
    assert found, f"no card for {code}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1)))


def _bullets(app, **features: list[str]) -> None:
    with app.app_context():
        for plan in db.session.scalars(sa.select(Plan).where(Plan.code.in_(features))):
            plan.features = features[plan.code]
        db.session.commit()


def test_the_plans_page_shows_each_plans_entitlements_next_to_its_bullets(
    app, client_as, switchable
):
    _bullets(app, business=["Priority support"])
    page = client_as("member").get("/plans/")
    assert page.status_code == 200
    business = _card(page, "business")
    assert "Priority support" in business
    assert "Team seats: Maximum 100, Admins 20" in business
    assert "Single sign-on: Provider: okta" in business
    assert "Audit log: Retention in days 365, Export: yes" in business
    starter = _card(page, "starter")
    assert "Team seats: Maximum 3, Admins 1" in starter
    assert "Single sign-on" not in starter and "Audit log" not in starter
    assert 'title="Sign in through your identity provider"' in page.get_data(as_text=True)


def test_a_downgrade_preview_lists_what_is_lost(app, client_as, switchable):
    _bullets(app, pro=["Email support", "Webhooks"], starter=["email support"])
    block = client_as("owner").get("/plans/starter/preview", headers=BLOCK)
    assert block.status_code == 200
    assert 'data-kind="downgrade"' in block.get_data(as_text=True)
    text = _text(block)
    assert "you no longer have:" in text
    lost = re.search(r'<div class="lost-features">(.*?)</div>', block.get_data(as_text=True), re.S)
    items = [re.sub(r"\s+", " ", i).strip() for i in re.findall(r"<li>(.*?)</li>", lost.group(1))]
    assert items == [
        "Webhooks",  # the bullet Starter lacks ("email support" is kept, whatever its case)
        "Team seats: Maximum from 20 to 3, Admins from 5 to 1",
        "Audit log: Retention in days 30, Export: no",
    ]


def test_an_upgrade_loses_nothing_and_says_nothing_about_it(app, client_as, switchable):
    block = client_as("owner").get("/plans/business/preview", headers=BLOCK)
    assert 'data-kind="upgrade"' in block.get_data(as_text=True)
    assert "lost-features" not in block.get_data(as_text=True)


def test_the_cancel_dialog_lists_the_plans_features_and_entitlements(app, client_as, switchable):
    _bullets(app, pro=["Webhooks"])
    dialog = client_as("owner").get("/subscription/cancel")
    assert dialog.status_code == 200
    lost = re.search(r'<ul class="lost-features">(.*?)</ul>', dialog.get_data(as_text=True), re.S)
    items = [re.sub(r"\s+", " ", i).strip() for i in re.findall(r"<li>(.*?)</li>", lost.group(1))]
    assert items == [
        "Webhooks",
        "Team seats: Maximum 20, Admins 5",
        "Audit log: Retention in days 30, Export: no",
    ]


def test_a_synced_change_in_lago_shows_on_the_page(app, client_as, switchable, connected):
    with connected.client() as lago:
        lago.patch(
            "/plans/starter/entitlements", json={"entitlements": {"seats": {"max": 5}}}
        ).raise_for_status()
        lago.delete("/plans/business/entitlements/sso").raise_for_status()
    member = client_as("member")
    assert "Maximum 3," in _card(member.get("/plans/"), "starter")  # the mirror until a sync
    with app.app_context():
        result = catalogue.sync_catalogue(lago_client(), import_new=False)
        db.session.commit()
    assert sorted(result.updated) == ["business", "starter"]
    page = member.get("/plans/")
    assert "Team seats: Maximum 5, Admins 1" in _card(page, "starter")
    assert "Single sign-on" not in _card(page, "business")
