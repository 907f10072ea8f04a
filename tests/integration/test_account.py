from portal.models import AuditEntry, User
from tests.conftest import PASSWORD, log_in


def test_profile_edit_saves_and_audits(app, client, make_person):
    person = make_person("member")
    log_in(client, person)
    response = client.submit(
        "/account/", {"name": "New Name", "email": person.email, "timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 303
    with app.app_context():
        user = User.by_email(person.email)
        assert (user.name, user.timezone) == ("New Name", "Asia/Tokyo")
        entry = AuditEntry.query.filter_by(action="user.profile_updated").one()
        assert entry.after == {"name": "New Name", "timezone": "Asia/Tokyo"}


def test_profile_htmx_returns_the_form_block(client, make_person):
    log_in(client, make_person("member"))
    ok = client.submit(
        "/account/",
        {"name": "N", "email": "n@example.com", "timezone": "UTC"},
        htmx=True,
        headers={"HX-Target": "profile-form"},
    )
    assert ok.status_code == 200
    assert ok.get_data(as_text=True).lstrip().startswith("<form")
    assert b"Your profile is saved." in ok.data
    bad = client.submit(
        "/account/",
        {"name": "", "email": "nope", "timezone": "UTC"},
        htmx=True,
        headers={"HX-Target": "profile-form"},
    )
    assert bad.status_code == 422
    assert b"This field is required." in bad.data


def test_profile_email_must_stay_unique(client, make_person):
    other = make_person("member")
    log_in(client, make_person("member"))
    response = client.submit(
        "/account/", {"name": "X", "email": other.email.upper(), "timezone": "UTC"}
    )
    assert b"Another account already uses this email." in response.data


def test_password_change_signs_out_other_sessions(app, make_person):
    person = make_person("member")
    laptop, phone = log_in(app.test_client(), person), log_in(app.test_client(), person)
    wrong = laptop.submit(
        "/account/password",
        {"current": "nope", "password": "another good one", "confirm": "another good one"},
    )
    assert b"That is not your current password." in wrong.data
    response = laptop.submit(
        "/account/password",
        {"current": PASSWORD, "password": "another good one", "confirm": "another good one"},
    )
    assert response.status_code == 303
    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302
    fresh = app.test_client()
    assert (
        fresh.submit("/login", {"email": person.email, "password": "another good one"}).status_code
        == 303
    )
    with app.app_context():
        entry = AuditEntry.query.filter_by(action="user.password_changed").one()
        assert "another good one" not in str(entry.before) + str(entry.after)
