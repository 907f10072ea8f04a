"""The demo's seeded accounts pass the app's own validation: each saves its details as shown."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from portal.cli import DEMO_PASSWORD, DEMO_USERS
from portal.models import Tenant, User


class FormValues(HTMLParser):
    """The values a browser would submit from one form of a page, as it was rendered."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, None
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif self.inside and tag == "input" and attrs.get("type") not in ("checkbox", "submit"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif self.inside and tag == "select":
            self.select = attrs["name"]
            self.values.setdefault(self.select, "")
        elif self.inside and tag == "option" and self.select and "selected" in attrs:
            self.values[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def shown_form(client, path: str, form_id: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200
    reader = FormValues(form_id)
    reader.feed(page.get_data(as_text=True))
    assert reader.values, f"no #{form_id} on {path}"
    return reader.values


@pytest.fixture
def seeded(app):
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0


@pytest.mark.parametrize(("email", "name", "role"), DEMO_USERS)
def test_every_seeded_account_saves_its_profile_and_organisation(
    app, client, seeded, email, name, role
):
    login = client.submit("/login", {"email": email, "password": DEMO_PASSWORD})
    assert login.status_code == 303, login.get_data(as_text=True)

    profile = shown_form(client, "/account/", "profile-form") | {"name": f"{name} (demo)"}
    assert profile["email"] == email
    saved = client.submit("/account/", profile)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    with app.app_context():
        assert User.by_email(email).name == f"{name} (demo)"

    if role is None or not role.can_manage_billing:
        assert client.get("/organisation/").status_code in (403, 404)
        return
    details = shown_form(client, "/organisation/", "organisation-form")
    details["city"] = f"Lyon ({role.value})"
    saved = client.submit("/organisation/", details)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    with app.app_context():
        tenant = Tenant.query.filter_by(name="Acme Inc.").one()
        assert (tenant.city, tenant.billing_email) == (details["city"], details["billing_email"])
