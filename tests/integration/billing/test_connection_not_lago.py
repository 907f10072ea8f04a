"""Test connection against applications that answer JSON 404s on Lago's routes: not a Lago API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.integration.billing.support import connection_form, serving, text_of

TEST_URL = "/admin/settings/billing/test"
NOT_LAGO = (
    "The Lago URL answers, but not with the Lago API: it does not know Lago's routes. "
    "Use the address of the Lago API, not the Lago web app: for example "
    "https://api.getlago.com or http://localhost:3000."
)


def json_app(health: bool) -> Callable[..., list[bytes]]:
    """Another web application's JSON API: 404 with an `error` on every path (but /health)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if health and environ["PATH_INFO"] == "/health":
            status, body = "200 OK", {"version": "v1.51.0", "message": "Success"}
        else:
            status, body = "404 Not Found", {"status": 404, "error": "Not Found"}
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return app


def outcome(admin, url: str) -> str:
    response = admin.submit(
        TEST_URL, connection_form(url, "any-key"), htmx=True, headers={"HX-Target": "test-result"}
    )
    assert response.status_code == 200
    text = text_of(response)
    assert "The connection does not work:" in text, text
    return text


def test_json_404s_on_every_route_are_not_a_lago_api(admin):
    with serving(json_app(health=False)) as url:
        text = outcome(admin, url)
    assert text.split("The connection does not work:", 1)[1].strip() == NOT_LAGO
    assert "Reach the server — The Lago URL answers, but not with the Lago API" in text
    assert "could not find" not in text


def test_a_health_check_but_json_404s_on_the_api_are_not_a_lago_api(admin):
    with serving(json_app(health=True)) as url:
        text = outcome(admin, url)
    assert text.split("The connection does not work:", 1)[1].strip() == NOT_LAGO
    assert "Reach the server — Lago v1.51.0" in text
    assert "Check the API key — The Lago URL answers, but not with the Lago API" in text


def test_pier_itself_is_not_a_lago_api(app, admin):
    with serving(app) as pier:
        assert "Page not found" in text_of(app.test_client().get("/health"))
        text = outcome(admin, pier)
    assert text.split("The connection does not work:", 1)[1].strip() == NOT_LAGO
    assert "could not find" not in text
