import pytest

from tests.conftest import log_in

STATE_CHANGES = [
    (
        "/signup",
        {
            "organisation": "X",
            "name": "X",
            "email": "x@example.com",
            "password": "a decent passphrase",
            "confirm": "a decent passphrase",
            "timezone": "UTC",
        },
    ),
    ("/login", {"email": "x@example.com", "password": "whatever123"}),
    ("/logout", {}),
    ("/account/", {"name": "X", "email": "x@example.com", "timezone": "UTC"}),
    ("/account/password", {"current": "x", "password": "y", "confirm": "y"}),
    ("/team/invitations", {"email": "y@example.com", "role": "member"}),
]


@pytest.mark.parametrize(("path", "data"), STATE_CHANGES)
def test_posts_without_a_token_are_refused(client, make_person, path, data):
    log_in(client, make_person("owner"))
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert b"Your form expired" in response.data


def test_a_forged_token_is_refused(client, make_person):
    log_in(client, make_person("owner"))
    response = client.post(
        "/account/",
        data={"name": "X", "email": "x@example.com", "timezone": "UTC", "csrf_token": "forged"},
    )
    assert response.status_code == 400


def test_htmx_requests_carry_the_token_in_a_header(client, make_person):
    log_in(client, make_person("owner"))
    ok = client.submit(
        "/account/", {"name": "X", "email": "x@example.com", "timezone": "UTC"}, htmx=True
    )
    assert ok.status_code == 200
    refused = client.post(
        "/account/",
        data={"name": "X", "email": "x@example.com", "timezone": "UTC"},
        headers={"HX-Request": "true", "X-CSRFToken": "nope"},
    )
    assert refused.status_code == 400


def test_every_page_puts_the_token_in_hx_headers(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
