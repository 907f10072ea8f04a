"""Tokens: 401 without a valid one, scopes, last use, revocation, rate limit, one error shape."""

from __future__ import annotations

from portal.extensions import db
from portal.models import ApiToken
from tests.integration.api.conftest import error_of


def test_no_token_a_wrong_one_or_another_scheme_is_401_in_json(api):
    for token in (None, "pier_api_not-a-real-token", "nonsense"):
        response = api.get("/tenants", token=token)
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert error_of(response)["code"] in {"unauthorized", "invalid_token"}
    basic = api.client.get("/api/v1/tenants", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401


def test_a_session_cookie_is_not_a_token(app, as_role, openapi):
    client, _ = as_role("admin")
    response = client.post("/api/v1/tenants", json={"name": "Sneaky"})
    assert response.status_code == 401


def test_a_read_token_reads_but_may_not_write(api, reader):
    assert reader.get("/tenants").status_code == 200
    response = reader.post("/tenants", json={"name": "Nope Ltd"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"
    assert api.post("/tenants", json={"name": "Yes Ltd"}).status_code == 201


def test_last_use_is_recorded_and_a_revoked_token_is_refused(app, api):
    from portal.api import tokens

    assert api.get("/tenants").status_code == 200
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken))
        assert token.last_used_at is not None
        assert token.token_hash != api.secret and api.secret not in str(token.__dict__)
        tokens.revoke_token(token.id)
        db.session.commit()
    response = api.get("/tenants")
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_the_rate_limit_counts_per_token(app, api, reader):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert api.get("/tenants").status_code == 200
    limited = api.get("/tenants")
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert reader.get("/tenants").status_code == 200  # another token has its own count


def test_unknown_addresses_and_methods_answer_in_the_same_shape(api):
    missing = api.client.get(
        "/api/v1/nothing-here", headers={"Authorization": f"Bearer {api.secret}"}
    )
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong = api.client.delete("/api/v1/tenants", headers={"Authorization": f"Bearer {api.secret}"})
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]


def test_a_body_that_is_not_json_is_refused_clearly(api):
    response = api.post("/tenants", data="name=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    broken = api.post("/tenants", data="{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert error_of(broken)["code"] == "bad_request"


def test_the_openapi_document_is_served_without_a_token(api):
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"] == "3.1.0"
