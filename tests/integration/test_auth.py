import re

import sqlalchemy as sa

from portal.auth.routes import LOGIN_FAILED
from portal.extensions import db
from portal.models import AuditEntry, Membership, Role, Tenant, User
from tests.conftest import PASSWORD, log_in

SIGNUP = {
    "organisation": "Globex",
    "name": "Gina",
    "email": "Gina@Globex.example",
    "password": "a decent passphrase",
    "confirm": "a decent passphrase",
    "timezone": "Europe/Berlin",
}


def test_sign_up_creates_the_tenant_and_its_owner_and_logs_in(app, client):
    response = client.submit("/signup", SIGNUP)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    with app.app_context():
        user = User.by_email("gina@globex.example")
        assert user.name == "Gina" and user.timezone == "Europe/Berlin"
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))
        assert membership.role is Role.owner
        tenant = db.session.get(Tenant, membership.tenant_id)
        assert tenant.name == "Globex" and tenant.external_id.startswith("pier_")
        assert tenant.created_at.tzinfo is not None
        assert db.session.scalar(sa.select(AuditEntry.action)) == "tenant.created"
    assert b"Globex" in client.get("/").data


def test_sign_up_with_an_email_taken_in_another_case_is_refused(client, make_person):
    make_person("owner", email="gina@globex.example")
    response = client.submit("/signup", SIGNUP)
    assert response.status_code == 200
    assert b"An account already uses this email" in response.data


def test_sign_up_errors_are_field_errors_422_for_htmx(client):
    bad = dict(
        SIGNUP, email="not-an-email", password="short", confirm="short", timezone="Mars/Base"
    )
    response = client.submit("/signup", bad, htmx=True, headers={"HX-Target": "signup-form"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<form")  # only the form block, not the page
    assert "Use at least 10 characters." in body
    assert "Choose a time zone from the list." in body
    assert 'aria-invalid="true"' in body
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_htmx_sign_up_redirects_with_hx_redirect(client):
    response = client.submit("/signup", SIGNUP, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


def test_login_with_the_right_password(client, make_person):
    person = make_person("member")
    response = client.submit("/login", {"email": person.email.upper(), "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/").status_code == 200


def test_login_error_does_not_tell_whether_the_email_exists(client, make_person):
    person = make_person("member")
    wrong_password = client.submit("/login", {"email": person.email, "password": "wrong password"})
    unknown_email = client.submit(
        "/login", {"email": "nobody@example.com", "password": "whatever1"}
    )
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert LOGIN_FAILED.encode() in response.data
    strip = lambda r: re.sub(rb'value="[^"]*"|content="[^"]*"', b"", r.data)  # noqa: E731
    assert strip(wrong_password) == strip(unknown_email).replace(
        b"nobody@example.com", person.email.encode()
    )


def test_login_is_throttled_with_a_readable_429(app, client, make_person):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    person = make_person("member")
    statuses = [
        client.submit("/login", {"email": person.email, "password": "bad guess 1"}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    response = client.submit("/login", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    assert b"Traceback" not in response.data


def test_logout_needs_post_with_csrf(client, make_person):
    log_in(client, make_person("member"))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    assert client.submit("/logout").status_code == 303
    assert client.get("/team/").status_code == 302


def test_session_cookie_flags(client, make_person):
    person = make_person("member")
    response = client.submit("/login", {"email": person.email, "password": PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_after_login_is_refused(client, make_person):
    person = make_person("member")
    response = client.submit(
        "/login?next=//evil.example/x", {"email": person.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    client.submit("/logout")
    response = client.submit("/login?next=/team/", {"email": person.email, "password": PASSWORD})
    assert response.headers["Location"] == "/team/"
