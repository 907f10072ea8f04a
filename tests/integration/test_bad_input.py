"""Bad input gets a 4xx and a sentence, never a 500: ids out of range, NUL bytes, huge bodies."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import Tenant, User
from tests.conftest import PASSWORD, PierClient, base_config
from tests.servers import refusing_port

OVERSIZE_IDS = ("2147483648", "99999999999999999999")


def test_every_route_answers_404_to_an_id_beyond_the_column_range(app, as_role):
    rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(rules) >= 8
    owner, _ = as_role("owner")
    admin, _ = as_role("admin")
    for rule in rules:
        for value in OVERSIZE_IDS:
            path = re.sub(r"<int:[a-z_]+>", value, rule.rule)
            path = re.sub(r"<[a-z_]+>", "x", path)
            for client in (owner, admin):
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    response = client.get(path) if method == "GET" else client.submit(path, {})
                    assert response.status_code == 404, (method, path, response.status_code)
                    assert b"Page not found" in response.data


@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "2147483648", "x"])
def test_page_numbers_out_of_range_are_clamped(app, as_role, page):
    admin, _ = as_role("admin")
    for path in ("/admin/audit", "/admin/webhooks"):
        assert admin.get(f"{path}?page={page}").status_code == 200, path


def test_nul_bytes_in_form_fields_are_removed(app, client):
    response = client.submit(
        "/signup",
        {
            "organisation": "Null\x00 Corp",
            "name": "Ada\x00",
            "email": "ada@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "timezone": "UTC",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
        assert user.name == "Ada"
        assert db.session.scalar(sa.select(Tenant.name)) == "Null Corp"


def test_nul_bytes_in_a_login_and_in_filters_are_not_a_500(app, client, as_role, make_person):
    person = make_person("member")
    response = client.submit("/login", {"email": person.email + "\x00", "password": "x\x00y"})
    assert response.status_code == 200
    assert b"do not match" in response.data
    admin, _ = as_role("admin")
    for path in (
        "/admin/webhooks?type=invoice%00&status=dead%00&source=lago%00",
        "/admin/audit?action=%00&actor=a%00b",
        "/login?next=/%00",
    ):
        assert admin.get(path).status_code in (200, 302), path


def test_a_nul_byte_in_a_path_is_404(client):
    response = client.get("/invitations/abc%00def")
    assert response.status_code == 404
    assert b"Page not found" in response.data


def post_streamed(client, path: str, body: bytes):
    """POST a body without Content-Length, as a chunked request reaches the app under gunicorn."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_streamed_login_body_over_the_limit_is_413(app, client):
    body = b"email=a%40example.com&password=" + b"x" * (3 * 1024 * 1024)
    response = post_streamed(client, "/login", body)
    assert response.status_code == 413
    assert b"larger than Pier accepts" in response.data


def test_a_streamed_body_within_the_limit_is_read_whole(app, client, make_person):
    person = make_person("member")
    token = client.csrf_token()
    body = f"csrf_token={token}&email={person.email}&password={PASSWORD}".encode()
    response = post_streamed(client, "/login", body)
    assert response.status_code == 303


def test_with_redis_down_logins_are_refused_with_a_sentence_in_every_worker(
    db_backend, database_url_for, redis_test_url, make_person
):
    config = base_config(database_url_for(db_backend), redis_test_url)
    config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{refusing_port()}/0"
    config["LOGIN_RATE_LIMIT"] = "2 per minute"
    person = make_person("member")
    workers = [create_app(config), create_app(config)]
    for worker in workers:
        worker.test_client_class = PierClient
        client = worker.test_client()
        for _ in range(3):
            response = client.submit("/login", {"email": person.email, "password": "wrong"})
            assert response.status_code == 503
            assert b"cannot count login attempts" in response.data
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()
