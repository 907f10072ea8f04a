"""htmx fragments never show a viewer more than the whole page shows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import jinja2.meta
import pytest
import time_machine
from flask import template_rendered

from portal.extensions import db
from portal.models import (
    EventSource,
    EventStatus,
    InvoiceMirror,
    Membership,
    Operation,
    Plan,
    Role,
    WebhookEvent,
)
from portal.team.services import invite_member
from tests.conftest import log_in

ROLES = ("anonymous", "member", "billing_admin", "owner", "admin", "other_tenant")
NOT_PAGES = ("static", "health.", "webhooks.", "api.")  # api: JSON for the host application
INVITEE = "pending.invitee@example.com"


@pytest.fixture
def frozen():
    """A still clock, so that a page rendered twice reads the same (tokens, "3 minutes ago")."""
    with time_machine.travel(datetime(2025, 3, 14, 10, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def world(app, make_person, frozen):
    """One tenant with an owner, a billing admin, a member and a pending invitation; a platform
    admin; an owner of another tenant; a plan and a webhook event for the admin pages."""
    owner = make_person("owner")
    people = {
        "owner": owner,
        "billing_admin": make_person("billing_admin", tenant_id=owner.tenant_id),
        "member": make_person("member", tenant_id=owner.tenant_id),
        "admin": make_person(None, admin=True),
        "other_tenant": make_person("owner", tenant_name="Other Org"),
    }
    with app.app_context():
        inviter = db.session.get(Membership, owner.membership_id)
        _, token = invite_member(inviter.tenant, inviter, INVITEE, Role.member)
        plan = Plan(code="pro", name="Pro")
        event = WebhookEvent(
            source=EventSource.lago,
            unique_key="fragments-1",
            event_type="customer.updated",
            body='{"webhook_type": "customer.updated"}',
            status=EventStatus.processed,
        )
        operation = Operation(
            tenant_id=owner.tenant_id, kind="reactivate", idempotency_key="fragments-op"
        )
        invoice = InvoiceMirror(
            tenant_id=owner.tenant_id,
            lago_id="fragments-invoice",
            number="FRA-001",
            status="finalized",
            payment_status="pending",
            currency="EUR",
            total_amount_cents=4900,
            issuing_date=datetime(2025, 3, 1, tzinfo=UTC),
            source_at=datetime(2025, 3, 1, tzinfo=UTC),
        )
        db.session.add_all([plan, event, operation, invoice])
        db.session.commit()
        values = {
            "token": token,
            "plan_id": plan.id,
            "event_id": event.id,
            "operation_id": operation.id,
            "code": plan.code,
            "card_id": 1,
            "invoice_id": invoice.lago_id,
            "setup_intent_id": "seti_sample",
            "lago_id": invoice.lago_id,
            "tenant_id": owner.tenant_id,
            "alert_id": 1,
            "coupon_id": 1,
        }
    return people, values


def _client(app, people, role):
    client = app.test_client()
    return client if role == "anonymous" else log_in(client, people[role])


def _page_urls(app, values) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods and not rule.endpoint.startswith(NOT_PAGES):
                urls.append(app.url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return sorted(urls)


def _blocks(env, name: str, seen: set[str] | None = None) -> set[str]:
    """Every block of a template and of the templates it extends or includes."""
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    template = env.get_template(name)
    found = set(template.blocks)
    source = env.loader.get_source(env, name)[0]
    for parent in jinja2.meta.find_referenced_templates(env.parse(source)):
        if parent:
            found |= _blocks(env, parent, seen)
    return found


def _fresh_keys_blanked(html: str) -> str:
    """Every render of an action form carries a new idempotency key; compare without it."""
    return re.sub(r'(name="key"[^>]*value=")[^"]*"', r'\1"', html)


def _get(client, url, target=None):
    """The page and the templates rendered for it (a fragment renders none through Flask)."""
    rendered = []

    def note(sender, template, context, **extra):
        rendered.append(template.name)

    headers = {"X-Request-ID": "walk"}  # error pages print it
    if target:
        headers.update({"HX-Request": "true", "HX-Target": target})
    with template_rendered.connected_to(note, client.application):
        response = client.get(url, headers=headers)
    return response, rendered


def test_no_fragment_shows_what_the_page_hides_for_any_role(app, world):
    people, values = world
    env = app.jinja_env
    urls = _page_urls(app, values)
    assert "/team/" in urls and f"/admin/webhooks/{values['event_id']}" in urls
    checked = 0
    for role in ROLES:
        client = _client(app, people, role)
        for url in urls:
            client.get(url)  # shows (and so clears) messages flashed by earlier redirects
            page, templates = _get(client, url)
            full = page.get_data(as_text=True)
            blocks = set().union(*(_blocks(env, name) for name in templates))
            for block in sorted(blocks):
                fragment, _ = _get(client, url, target=block.replace("_", "-"))
                where = f"{role} {url} #{block}"
                assert fragment.status_code == page.status_code, where
                assert _fresh_keys_blanked(fragment.get_data(as_text=True)) in _fresh_keys_blanked(
                    full
                ), where
                if page.status_code == 200:  # pages vary with the htmx headers; errors do not
                    assert {"HX-Request", "HX-Target"} <= set(fragment.vary), where
                checked += 1
    assert checked > 200


def test_a_member_never_receives_the_invite_panel_or_the_invitees(app, world):
    people, _ = world
    member = _client(app, people, "member")
    for headers in ({}, {"HX-Request": "true", "HX-Target": "invite-panel"}):
        body = member.get("/team/", headers=headers).get_data(as_text=True)
        assert INVITEE not in body and 'id="invite-panel"' not in body
        assert "<h1>Team of" in body  # the whole page, as a plain request gets it


def test_a_declared_fragment_comes_alone_and_others_get_the_page(app, world):
    people, _ = world
    owner = _client(app, people, "owner")
    panel = owner.get("/team/", headers={"HX-Request": "true", "HX-Target": "invite-panel"})
    body = panel.get_data(as_text=True)
    assert body.lstrip().startswith('<article id="invite-panel">') and INVITEE in body
    assert "<h1>" not in body
    for target in ("content", "title", "flashes", "no-such-block"):
        page = owner.get("/team/", headers={"HX-Request": "true", "HX-Target": target})
        assert "<h1>Team of" in page.get_data(as_text=True), target
    boosted = owner.get(
        "/team/", headers={"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "invite-panel"}
    )
    assert "<h1>Team of" in boosted.get_data(as_text=True)


def test_a_fragment_served_again_renders_only_what_holds_it(app, world):
    """The first render learns where the fragment sits; later ones skip the other top-level
    blocks, so they read the same and a flash waits for the next whole page."""
    people, _ = world
    owner = _client(app, people, "owner")
    headers = {"HX-Request": "true", "HX-Target": "invite-panel"}
    first = owner.get("/team/", headers=headers).get_data(as_text=True)
    with owner.session_transaction() as session:
        session["_flashes"] = [("message", "Saved a moment ago.")]
    again = owner.get("/team/", headers=headers).get_data(as_text=True)
    assert again == first and INVITEE in again
    assert "Saved a moment ago." not in again
    assert "Saved a moment ago." in owner.get("/team/").get_data(as_text=True)
