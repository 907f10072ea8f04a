"""Tenants through the API: create (the Lago customer follows), get, list, update, invite."""

from __future__ import annotations

import pytest
from openapi_core.exceptions import OpenAPIError

from jobs.sync import sync_tenant
from portal.extensions import db
from portal.models import AuditEntry, Invitation, Tenant
from tests.integration.api.conftest import error_of
from tests.integration.handlers.support import lago_call

ORG = {
    "name": "Harbour Lights Ltd",
    "billing_email": "Accounts@Harbour.example",
    "timezone": "Europe/Lisbon",
    "currency": "EUR",
    "country": "PT",
    "metadata": {"created_by_user_id": "u_4711", "billing_type": "organization_prepaid"},
}


def test_a_created_tenant_becomes_a_lago_customer_with_its_metadata(app, api, connected):
    response = api.post("/tenants", json=ORG)
    assert response.status_code == 201
    tenant = response.get_json()["tenant"]
    assert tenant["id"].startswith("pier_")
    assert response.headers["Location"] == f"/api/v1/tenants/{tenant['id']}"
    assert tenant["billing_email"] == "Accounts@harbour.example"
    assert tenant["metadata"] == ORG["metadata"]
    assert tenant["lago"]["sync_state"] == "pending"
    with app.app_context():
        row = db.session.scalar(db.select(Tenant).filter_by(external_id=tenant["id"]))
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="tenant.created"))
        tenant_id = row.id
    assert sync_tenant(tenant_id) == "synced"
    customer = lago_call(connected, "GET", f"/customers/{tenant['id']}")["customer"]
    assert customer["name"] == "Harbour Lights Ltd"
    assert {m["key"]: m["value"] for m in customer["metadata"]} == {
        "billing_type": "organization_prepaid",
        "created_by_user_id": "u_4711",
    }
    assert (
        api.get(f"/tenants/{tenant['id']}").get_json()["tenant"]["lago"]["sync_state"] == "synced"
    )


def test_an_update_changes_only_the_given_fields_and_writes_the_customer_again(app, api, connected):
    created = api.post("/tenants", json=ORG).get_json()["tenant"]
    with app.app_context():
        tenant_id = db.session.scalar(db.select(Tenant.id).filter_by(external_id=created["id"]))
    sync_tenant(tenant_id)
    response = api.patch(
        f"/tenants/{created['id']}",
        json={"name": "Harbour Lights SA", "metadata": {"tier": "gold"}},
    )
    assert response.status_code == 200
    body = response.get_json()["tenant"]
    assert (body["name"], body["currency"], body["metadata"]) == (
        "Harbour Lights SA",
        "EUR",
        {"tier": "gold"},
    )
    assert body["lago"]["sync_state"] == "pending"
    sync_tenant(tenant_id)
    customer = lago_call(connected, "GET", f"/customers/{created['id']}")["customer"]
    assert customer["name"] == "Harbour Lights SA"
    assert {m["key"]: m["value"] for m in customer["metadata"]} == {
        "billing_type": "organization",
        "tier": "gold",
    }


def test_bad_values_are_422_with_every_problem_named(api):
    response = api.post(
        "/tenants",
        json={
            "name": " ",
            "billing_email": "not-an-email",
            "timezone": "Mars/Olympus",
            "currency": "euro",
            "country": "XX",
            "metadata": {"a": "1", "b": "2", "c": "3", "d": "4"},
            "plan": "pro",
        },
    )
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert set(details) == {
        "name",
        "billing_email",
        "timezone",
        "currency",
        "country",
        "metadata",
        "plan",
    }
    reserved = api.post("/tenants", json={"name": "X", "metadata": {"created_by": "me"}})
    assert error_of(reserved)["details"] == {"metadata": ["created_by is set by Pier"]}
    blank_name = api.patch("/tenants/pier_unknown", json={"name": ""})
    assert blank_name.status_code == 404


def test_list_pages_by_cursor_in_creation_order(api):
    ids = [
        api.post("/tenants", json={"name": f"Org {n}"}).get_json()["tenant"]["id"] for n in range(5)
    ]
    first = api.get("/tenants?limit=2").get_json()
    assert [t["id"] for t in first["data"]] == ids[:2]
    second = api.get(f"/tenants?limit=2&after={first['next_cursor']}").get_json()
    assert [t["id"] for t in second["data"]] == ids[2:4]
    last = api.get(f"/tenants?limit=2&after={second['next_cursor']}").get_json()
    assert [t["id"] for t in last["data"]] == ids[4:]
    assert last["next_cursor"] is None
    assert api.get("/tenants?limit=0").status_code == 422
    assert api.get("/tenants?after=pier_nobody").status_code == 422


def test_an_unknown_tenant_is_404(api):
    response = api.get("/tenants/pier_nobody")
    assert response.status_code == 404
    assert error_of(response)["code"] == "tenant_not_found"


def test_the_first_owner_is_invited_by_email(app, api, mailbox):
    tenant = api.post("/tenants", json={"name": "Quay Co"}).get_json()["tenant"]
    response = api.post(
        f"/tenants/{tenant['id']}/owner-invitations", json={"email": "Founder@quay.example"}
    )
    assert response.status_code == 201
    invitation = response.get_json()["invitation"]
    assert invitation["role"] == "owner" and invitation["emailed"] is True
    message = mailbox.wait_for("Founder@quay.example")[0]
    assert message["To"] == "Founder@quay.example"
    assert invitation["accept_url"] in message.get_body(("plain",)).get_content()
    with app.app_context():
        row = db.session.scalar(db.select(Invitation))
        assert row.invited_by_id is None and row.role.value == "owner"
    # Accepting makes them the owner (the team's invitation flow).
    page = app.test_client().get(invitation["accept_url"].removeprefix("http://localhost"))
    assert page.status_code == 200


def test_the_response_checker_refuses_an_answer_that_breaks_the_document(api):
    response = api.client.get("/api/v1/tenants", headers={"Authorization": f"Bearer {api.secret}"})
    response.set_data(b'{"data": "not a list"}')
    with pytest.raises(OpenAPIError):
        api.check(response)
