"""API tokens from Admin › API tokens and from `flask api-token`."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import ApiToken, AuditEntry
from tests.integration.billing.support import text_of


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(app, as_role, api):
    admin, _ = as_role("admin")
    created = admin.submit(
        "/admin/api-tokens", {"name": "host backend", "scopes": ["read", "write"]}
    )
    assert created.status_code == 200
    secret = re.search(r'id="new-api-token">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert api.get("/tenants", token=secret).status_code == 200
    page = admin.get("/admin/api-tokens")
    assert secret not in page.get_data(as_text=True)
    assert "host backend" in text_of(page) and secret[:13] in page.get_data(as_text=True)
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).filter_by(name="host backend"))
        assert token.scopes == ["read", "write"] and token.last_used_at is not None
        token_id = token.id
    revoked = admin.submit(f"/admin/api-tokens/{token_id}/revoke")
    assert revoked.status_code in (302, 303)
    assert api.get("/tenants", token=secret).status_code == 401
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditEntry.action)))
    assert {"api_token.created", "api_token.revoked"} <= actions


def test_a_token_needs_a_name_and_a_scope(as_role):
    admin, _ = as_role("admin")
    response = admin.submit("/admin/api-tokens", {"name": "", "scopes": []})
    assert response.status_code == 422
    assert "Give the token a name" in text_of(response)


def test_the_cli_creates_lists_and_revokes(app, api):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["api-token", "create", "--name", "ci", "--scope", "read"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("pier_api_")
    assert api.get("/tenants", token=secret).status_code == 200
    assert api.post("/tenants", json={"name": "X"}, token=secret).status_code == 403
    listed = runner.invoke(args=["api-token", "list"])
    assert "ci\tread\t" in listed.output and secret not in listed.output
    token_id = listed.output.splitlines()[0].split("\t")[0]
    assert runner.invoke(args=["api-token", "revoke", token_id]).exit_code == 0
    assert api.get("/tenants", token=secret).status_code == 401
    assert "revoked" in runner.invoke(args=["api-token", "list"]).output
    missing = runner.invoke(args=["api-token", "revoke", "9999"])
    assert missing.exit_code == 1 and "no API token 9999" in missing.output
