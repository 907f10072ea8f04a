"""Settings › Billing › Test connection, against the live Lago stand-in and odd servers."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AuditEntry, BillingConnection
from tests.certificates import self_signed_context
from tests.integration.billing.support import (
    UNRESOLVABLE_HOST,
    connection_form,
    serving,
    text_of,
    web_page,
    within,
)
from tests.servers import refusing_port

TEST_URL = "/admin/settings/billing/test"
HTMX = {"HX-Target": "test-result"}


def run_test(admin, data, *, htmx=True):
    headers = HTMX if htmx else {}
    return admin.submit(TEST_URL, data, htmx=htmx, headers=headers)


def nothing_saved(app) -> None:
    with app.app_context():
        assert db.session.query(BillingConnection).count() == 0
        assert db.session.query(AuditEntry).filter(AuditEntry.action.like("billing.%")).count() == 0


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_working_connection_shows_the_organisation_and_the_plans(app, admin, lago_standin, htmx):
    lago_standin.seed()
    response = run_test(admin, connection_form(lago_standin.url, lago_standin.api_key), htmx=htmx)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if htmx:  # only the result block, for the swap
        assert html.lstrip().startswith('<div id="test-result"')
        assert "<html" not in html
    else:
        assert "<html" in html and 'id="connection-form"' in html
    text = text_of(response)
    assert "Connection works." in text
    assert "Organisation Pier Sandbox" in text
    assert lago_standin.organization_id in text
    assert "currency USD" in text
    assert "time zone UTC" in text
    assert "Lago v1.51.0" in text
    assert "Plans in Lago: business, pro, starter." in text  # Lago lists the newest first
    for label in ("Reach the server", "Check the API key", "Read the organisation"):
        assert label in text
    assert "3 plan(s)" in text
    nothing_saved(app)


def failure_sentence(response) -> str:
    text = text_of(response)
    assert "The connection does not work:" in text, text
    return text.split("The connection does not work:", 1)[1].strip()


def test_each_failure_has_its_own_sentence(app, admin, lago_standin, tmp_path):
    """Closed port, bad certificate, a web page, a wrong key, Lago down: each says what to do."""
    port = refusing_port()
    cases = [
        (
            f"http://127.0.0.1:{port}",
            "any-key",
            None,
            "Reach the server",
            "The Lago server refused the connection. "
            f"Check that Lago is running and listening on 127.0.0.1:{port}.",
        ),
        (
            "tls",
            "any-key",
            None,
            "Reach the server",
            "The certificate of the Lago server is not trusted (self-signed certificate). "
            "Use a certificate from a trusted authority, or point Pier at your own CA bundle.",
        ),
        (
            "html",
            "any-key",
            None,
            "Reach the server",
            "The Lago URL answered with a web page, not the Lago API. Use the address of the "
            "Lago API, not the Lago web app: for example https://api.getlago.com or "
            "http://localhost:3000.",
        ),
        (
            lago_standin.url,
            "not-the-key",
            None,
            "Check the API key",
            "Lago rejected the API key. Copy the key again from Lago › Developers › API keys.",
        ),
        (
            lago_standin.url,
            lago_standin.api_key,
            "503",
            "Reach the server",
            "Lago is temporarily unavailable. "
            "Try again in a minute. If it keeps happening, check the Lago server logs.",
        ),
        (
            lago_standin.url,
            lago_standin.api_key,
            "close",
            "Reach the server",
            "Lago closed the connection without answering. "
            "Try again. Check that the URL uses the right scheme and port.",
        ),
    ]
    with serving(web_page, self_signed_context(tmp_path)) as tls, serving(web_page) as html:
        for url, key, down, step, sentence in cases:
            url = {"tls": tls, "html": html}.get(url, url)
            if down:
                lago_standin.set_faults(down=down)
            response = run_test(admin, connection_form(url, key))
            lago_standin.clear_faults()
            assert response.status_code == 200
            assert failure_sentence(response) == sentence, url
            text = text_of(response)
            first = sentence.split(". ")[0]
            assert f"{step} — {first}" in text, text
            if step == "Check the API key":
                assert "Reach the server — Lago v1.51.0" in text  # the server was reached
            assert "Count the plans — not run" in text

    plain = run_test(admin, connection_form(lago_standin.url, "wrong"), htmx=False)
    assert plain.status_code == 200
    assert 'id="connection-form"' in plain.get_data(as_text=True)  # the whole page
    assert failure_sentence(plain).startswith("Lago rejected the API key.")

    works = run_test(admin, connection_form(lago_standin.url, lago_standin.api_key))
    assert "Connection works." in text_of(works) and "Lago has no plans yet." in text_of(works)
    nothing_saved(app)


def test_an_unresolvable_host_is_named(app, admin):
    # A resolver that drops the query makes glibc wait 5 s; bound each try, as the client tests do.
    data = connection_form(f"http://{UNRESOLVABLE_HOST}:3000", "any-key")
    for _ in range(3):
        thread, outcome = within(2.0, lambda: run_test(admin, data))
        if outcome:
            break
        thread.join(15)  # let the request finish before the next try and the teardown
    else:
        pytest.skip("name resolution takes over 2 s on this machine")
    assert failure_sentence(outcome[0]) == (
        "The Lago server name could not be found. "
        f"Check the spelling of {UNRESOLVABLE_HOST} in the Lago URL, "
        "and the Pier server's DNS settings."
    )
    nothing_saved(app)


def test_a_slow_lago_times_out(app, admin, lago_standin):
    app.config["LAGO_READ_TIMEOUT"] = 0.3
    lago_standin.set_faults(timeout_s=3, path_prefix="/api/v1")
    try:
        response = run_test(admin, connection_form(lago_standin.url, lago_standin.api_key))
    finally:
        lago_standin.clear_faults()
    text = text_of(response)
    assert "Reach the server — Lago v1.51.0" in text
    assert failure_sentence(response) == (
        "Lago took too long to answer. "
        "Try again. If it keeps happening, check the load and logs of the Lago server."
    )


FORM_ERRORS = [
    (
        {"api_url": "lago.example.com", "api_key": "k"},
        "api_url",
        "Enter a full address starting with https:// or http://.",
    ),
    (
        {"api_url": "http://127.0.0.1:3000", "api_key": ""},
        "api_key",
        "Paste the API key from Lago › Developers › API keys.",
    ),
    (
        {"api_url": "http://127.0.0.1:3000", "api_key": "k", "webhook_algorithm": "hmac"},
        "hmac_key",
        "Paste the HMAC key from Lago › Developers › Webhooks.",
    ),
    (
        {"api_url": "http://127.0.0.1:3000", "api_key": "k", "public_key": "my key"},
        "public_key",
        "This is not a public key Pier can read. Use the PEM, from -----BEGIN PUBLIC KEY----- "
        "to the end, or the base64 text Lago serves at /api/v1/webhooks/public_key.",
    ),
]


def test_form_errors_come_back_as_field_errors(app, admin, lago_standin):
    for data, field, message in FORM_ERRORS:
        form = connection_form("", "") | data
        response = run_test(admin, form)
        assert response.status_code == 422, field
        html = response.get_data(as_text=True)
        assert f'<small class="field-error" id="{field}-error">{message}</small>' in html
        assert f'id="{field}" ' in html and 'aria-invalid="true"' in html
        # The errors sit next to their fields: htmx swaps the form, not the empty result box.
        assert response.headers.get("HX-Retarget") == "#connection-form"
        assert response.headers.get("HX-Reswap") == "outerHTML"
        assert html.lstrip().startswith('<form id="connection-form"')

        plain = run_test(admin, form, htmx=False)
        assert plain.status_code == 200
        assert message in plain.get_data(as_text=True)
    assert lago_standin.standin.store.count("webhook_endpoint") == 0
    nothing_saved(app)
