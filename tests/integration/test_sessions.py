"""Sign-ins live on the server: ending one makes every copy of its cookies worthless."""

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from portal.auth.session import LAST_SEEN_EVERY, device_label
from portal.extensions import db
from portal.models import AuditEntry, UserSession, utcnow
from tests.conftest import PASSWORD

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _logged_in(app, person, *, remember=False, user_agent=FIREFOX):
    """A browser that logged in through the form."""
    browser = app.test_client()
    browser.environ_base["HTTP_USER_AGENT"] = user_agent
    data = {"email": person.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert browser.submit("/login", data).status_code == 303
    assert browser.get("/team/").status_code == 200
    return browser


def _with_cookies(app, **cookies):
    """A fresh browser holding only the given cookies (as an attacker replaying them)."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def _refused(browser) -> bool:
    response = browser.get("/team/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _log_out(browser):
    assert browser.submit("/logout").status_code == 303


def test_a_session_cookie_captured_before_logout_opens_nothing_after(app, make_person):
    browser = _logged_in(app, make_person("member"))
    captured = browser.get_cookie("session").value
    assert not _refused(_with_cookies(app, session=captured))  # a copy works while signed in
    _log_out(browser)
    assert _refused(browser)
    assert _refused(_with_cookies(app, session=captured))


def test_a_remember_cookie_alone_opens_nothing_after_logout(app, make_person):
    browser = _logged_in(app, make_person("member"), remember=True)
    remembered = browser.get_cookie("remember_token").value
    assert not _refused(_with_cookies(app, remember_token=remembered))
    _log_out(browser)
    assert browser.get_cookie("remember_token") is None  # the browser is told to forget it
    assert _refused(_with_cookies(app, remember_token=remembered))


def test_the_cookies_carry_a_key_and_the_database_only_its_hash(app, make_person):
    person = make_person("member")
    browser = _logged_in(app, person, remember=True)
    remembered = browser.get_cookie("remember_token").value
    key = remembered.split("|", 1)[0]
    with app.app_context():
        stored = db.session.scalars(sa.select(UserSession)).one()
        assert stored.user_id == person.id and stored.remember
        assert stored.device == "Firefox on Linux" and stored.ip == "127.0.0.1"
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and len(key) >= 40


def test_sign_out_everywhere_ends_every_session_and_is_audited(app, make_person):
    person = make_person("member")
    laptop = _logged_in(app, person)
    phone = _logged_in(app, person, remember=True, user_agent=IPHONE)
    phone_cookie = phone.get_cookie("remember_token").value
    someone_else = _logged_in(app, make_person("member"))
    page = laptop.get("/account/").get_data(as_text=True)
    assert "Firefox on Linux" in page and "Safari on iOS" in page and "This browser" in page
    assert laptop.post("/account/sessions/end").status_code == 400  # no CSRF token
    response = laptop.submit("/account/sessions/end")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert _refused(laptop) and _refused(phone)
    assert _refused(_with_cookies(app, remember_token=phone_cookie))
    assert not _refused(someone_else)
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "user.signed_out_everywhere")
        ).one()
        assert entry.actor_id == person.id and entry.after == {"sessions_ended": 2}


def test_one_session_is_signed_out_from_the_list(app, make_person):
    person = make_person("member")
    laptop = _logged_in(app, person)
    phone = _logged_in(app, person, user_agent=IPHONE)
    stranger = make_person("member")
    _logged_in(app, stranger)
    with app.app_context():
        ids = {
            s.user_id if s.device != "Safari on iOS" else "phone": s.id
            for s in db.session.scalars(sa.select(UserSession))
        }
    assert laptop.submit(f"/account/sessions/{ids[stranger.id]}/end").status_code == 404
    response = laptop.submit(f"/account/sessions/{ids['phone']}/end")
    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    assert _refused(phone) and not _refused(laptop)
    assert laptop.submit(f"/account/sessions/{ids['phone']}/end").status_code == 404
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "user.session_ended")
        ).one()
        assert entry.target_id == str(ids["phone"]) and entry.after == {"device": "Safari on iOS"}
    laptop.submit(f"/account/sessions/{ids[person.id]}/end")
    assert _refused(laptop)


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, make_person):
    person = make_person("member")
    laptop = _logged_in(app, person)
    phone = _logged_in(app, person, remember=True, user_agent=IPHONE)
    phone_cookie = phone.get_cookie("remember_token").value
    new = "another good one"
    response = laptop.submit(
        "/account/password", {"current": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 303
    assert not _refused(laptop)
    assert _refused(phone) and _refused(_with_cookies(app, remember_token=phone_cookie))
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "user.password_changed")
        ).one()
        assert entry.after == {"sessions_ended": 1}


def test_last_seen_is_written_only_when_it_is_stale(app, make_person):
    browser = _logged_in(app, make_person("member"))
    with app.app_context():
        stored = db.session.scalars(sa.select(UserSession)).one()
        recent = utcnow() - LAST_SEEN_EVERY / 2
        stale = utcnow() - LAST_SEEN_EVERY * 2
        stored.last_seen_at = recent
        db.session.commit()
    browser.get("/team/")
    with app.app_context():
        stored = db.session.scalars(sa.select(UserSession)).one()
        assert stored.last_seen_at == recent
        stored.last_seen_at = stale
        db.session.commit()
    browser.get("/team/")
    with app.app_context():
        seen = db.session.scalars(sa.select(UserSession)).one().last_seen_at
        assert seen - stale > LAST_SEEN_EVERY
        assert utcnow() - seen < timedelta(minutes=1)


def test_device_labels():
    assert device_label(FIREFOX) == "Firefox on Linux"
    assert device_label(IPHONE) == "Safari on iOS"
    assert device_label("curl/8.5.0") == "curl/8.5.0"
    assert device_label("") == "Unknown device"


def _real_limits(app):
    """The limits Pier runs with unless told otherwise (other tests lift them: see conftest)."""
    app.config.update(SESSION_IDLE_MINUTES=12 * 60, SESSION_MAX_DAYS=30)


def _age(app, *, created=timedelta(0), unseen=timedelta(0)):
    """Move the only sign-in's start and last sight back in time."""
    with app.app_context():
        stored = db.session.scalars(sa.select(UserSession)).one()
        stored.created_at = utcnow() - created
        stored.last_seen_at = utcnow() - unseen
        db.session.commit()


def _ended(app) -> bool:
    with app.app_context():
        return db.session.scalars(sa.select(UserSession)).one().revoked_at is not None


def test_a_session_without_remember_me_ends_after_the_idle_limit(app, make_person):
    _real_limits(app)
    browser = _logged_in(app, make_person("member"))
    captured = browser.get_cookie("session").value
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    _age(app, created=idle * 2, unseen=idle - timedelta(minutes=1))
    assert not _refused(browser)  # used within the limit: still open
    _age(app, created=idle * 2, unseen=idle + timedelta(minutes=1))
    assert _refused(_with_cookies(app, session=captured))
    assert _ended(app)
    assert _refused(browser)


def test_a_remembered_session_outlives_idleness_but_not_its_maximum_age(app, make_person):
    _real_limits(app)
    browser = _logged_in(app, make_person("member"), remember=True)
    remembered = browser.get_cookie("remember_token").value
    longest = timedelta(days=app.config["SESSION_MAX_DAYS"])
    _age(app, created=longest - timedelta(days=1), unseen=longest - timedelta(days=1))
    assert not _refused(_with_cookies(app, remember_token=remembered))
    _age(app, created=longest + timedelta(minutes=1))
    assert _refused(_with_cookies(app, remember_token=remembered))
    assert _ended(app)


def test_the_account_page_lists_no_session_that_ran_out(app, make_person):
    _real_limits(app)
    person = make_person("member")
    browser = _logged_in(app, person)
    other = _logged_in(app, person, user_agent=IPHONE)
    with app.app_context():
        iphone = db.session.scalars(sa.select(UserSession).filter_by(device="Safari on iOS")).one()
        iphone.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
        db.session.commit()
    page = browser.get("/account/").get_data(as_text=True)
    assert "Firefox on Linux" in page
    assert "Safari on iOS" not in page
    assert _refused(other)
