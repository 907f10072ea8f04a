"""Every page, for every kind of visitor, answers with the Content-Security-Policy."""

import re

import pytest

from tests.integration.test_access import ALL, _call, _routes


@pytest.mark.parametrize("role", [None, "member", "owner", "admin"])
def test_every_page_sends_the_policy_with_a_fresh_nonce(app, client, as_role, role):
    visitor = as_role(role)[0] if role else client
    nonces = set()
    for method, url in _routes(app, ALL - {"static"}) + [("GET", "/static/js/pier.js")]:
        response = _call(visitor, method, url)
        header = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in header, (role, method, url, response.status_code)
        assert "object-src 'none'" in header and "form-action 'self'" in header, (method, url)
        assert "base-uri 'self'" in header and "'unsafe-inline'" not in header, (method, url)
        nonce = re.search(r"script-src 'self' 'nonce-([\w-]+)'", header)
        assert nonce, (method, url, header)
        nonces.add(nonce.group(1))
    assert len(nonces) > 1


def test_a_template_gets_the_requests_nonce(app):
    with app.test_request_context("/"):
        page = app.jinja_env.from_string("{{ csp_nonce() }} {{ csp_nonce() }}").render()
    first, second = page.split()
    assert first == second and len(first) >= 16


def test_htmx_is_told_not_to_inject_styles_or_eval(client):
    page = client.get("/login").get_data(as_text=True)
    assert '"includeIndicatorStyles":false' in page
    assert '"allowEval":false' in page
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline script without a nonce"
