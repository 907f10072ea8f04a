"""Settings › Stripe: keys tested against the account, saved encrypted, masked; the CSP follows."""

from __future__ import annotations

from portal import crypto
from portal.extensions import db
from portal.models import StripeSettings
from tests.integration.billing.support import text_of


def _form(stripe_standin, **changes):
    data = {
        "secret_key": stripe_standin.api_key,
        "publishable_key": stripe_standin.publishable_key,
        "webhook_secrets": "whsec_one, whsec_two",
        "provider_code": "stripe_eu",
        "api_base": stripe_standin.url,
        "js_url": stripe_standin.url + "/v3/",
    }
    return data | changes


def test_saving_reads_the_account_and_keeps_secrets_encrypted_and_masked(
    app, as_role, stripe_standin, no_proxy
):
    admin, _ = as_role("admin")
    answer = admin.submit("/admin/settings/stripe", _form(stripe_standin))
    assert answer.status_code == 303, text_of(answer)
    page = admin.get("/admin/settings/stripe")
    text = text_of(page)
    assert "Connected to Stripe stand-in (acct_sandbox0000000000)" in text
    assert stripe_standin.api_key not in page.get_data(as_text=True)
    assert "whsec_one" not in page.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(db.select(StripeSettings))
        assert crypto.decrypt(row.secret_key_encrypted) == stripe_standin.api_key
        assert crypto.decrypt(row.webhook_secrets_encrypted) == "whsec_one,whsec_two"
        assert row.payment_provider_code == "stripe_eu"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and stripe_standin.url in policy
    # Blank secrets keep the saved ones.
    again = admin.submit(
        "/admin/settings/stripe", _form(stripe_standin, secret_key="", webhook_secrets="")
    )
    assert again.status_code == 303
    with app.app_context():
        row = db.session.scalar(db.select(StripeSettings))
        assert crypto.decrypt(row.webhook_secrets_encrypted) == "whsec_one,whsec_two"


def test_a_refused_key_is_said_and_nothing_is_saved(app, as_role, stripe_standin, no_proxy):
    admin, _ = as_role("admin")
    answer = admin.submit(
        "/admin/settings/stripe", _form(stripe_standin, secret_key="sk_test_wrong_key_1234")
    )
    assert answer.status_code == 422
    assert "Invalid API Key" in text_of(answer) or "refused" in text_of(answer)
    with app.app_context():
        assert db.session.scalar(db.select(StripeSettings)) is None


def test_bad_key_shapes_are_field_errors(app, as_role, stripe_standin, no_proxy):
    admin, _ = as_role("admin")
    answer = admin.submit(
        "/admin/settings/stripe",
        _form(stripe_standin, publishable_key="sk_test_oops", webhook_secrets="secret"),
    )
    assert answer.status_code == 422
    text = text_of(answer)
    assert "A publishable key starts with pk_test_" in text
    assert "Signing secrets start with whsec_" in text


def _stripe_summary(admin) -> str:
    page = admin.get("/admin/settings/billing")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/admin/settings/stripe" id="stripe-settings-link"' in html
    assert 'name="secret_key"' not in html, "the keys are set on Settings › Stripe only"
    return text_of(page).split("Cards (Stripe)")[1].split("Connection")[0]


def test_the_billing_settings_say_where_stripe_stands_and_link_to_its_page(
    app, as_role, stripe_standin, no_proxy
):
    admin, _ = as_role("admin")
    assert "Not connected: customers cannot add cards." in _stripe_summary(admin)

    app.config.update(STRIPE_SECRET_KEY=stripe_standin.api_key)
    summary = _stripe_summary(admin)
    assert "Connected." in summary and "(now taken from the environment)" in summary

    assert admin.submit("/admin/settings/stripe", _form(stripe_standin)).status_code == 303
    summary = _stripe_summary(admin)
    assert "Connected to Stripe stand-in (acct_sandbox0000000000)" in summary
    assert "environment" not in summary
