"""Large Lago webhooks through gunicorn with the project's own gunicorn.conf.py."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from portal.config import WEBHOOK_MAX_BYTES_DEFAULT
from portal.extensions import db
from portal.models import EventStatus, SignatureFailure, WebhookEvent
from tests.gunicorn import gunicorn
from tests.integration.webhooks.conftest import jwt_headers

ROOT = Path(__file__).resolve().parents[3]
PAYLOAD = ROOT / "tests" / "fixtures" / "payloads" / "lago" / "invoice.created.json"

pytestmark = pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)


@pytest.fixture(scope="module")
def gunicorn_url(database_url_for, redis_test_url, tmp_path_factory):
    """gunicorn serving app:app from the project folder (so it loads gunicorn.conf.py)."""
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(database_url_for("postgresql"), redis_test_url, log) as server:
        yield server.url


def invoice_body(size: int) -> bytes:
    """A Lago invoice.created body of exactly `size` bytes: many fees, as a large invoice has."""
    payload = json.loads(PAYLOAD.read_text())
    invoice = payload["invoice"]
    invoice["fees"] = []
    n = 0
    while len(json.dumps(payload, separators=(",", ":"))) < size - 400:
        n += 1
        invoice["fees"].append(
            {
                "lago_id": f"fee-{n:08d}-0000-4000-8000-000000000000",
                "item": {"type": "charge", "code": f"api_calls_{n}", "name": f"API calls {n}"},
                "amount_cents": 1000 + n,
                "amount_currency": "EUR",
                "units": "12.0",
                "events_count": 12,
            }
        )
    invoice["metadata"] = [{"key": "note", "value": ""}]
    short = size - len(json.dumps(payload, separators=(",", ":")))
    invoice["metadata"][0]["value"] = "x" * short
    body = json.dumps(payload, separators=(",", ":")).encode()
    assert len(body) == size
    return body


def post(url: str, body: bytes, headers: dict) -> httpx.Response:
    return httpx.post(url + "/webhooks/lago", content=body, headers=headers, timeout=30)


def stored(app) -> list[WebhookEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebhookEvent)))


@pytest.mark.parametrize("size", [6 * 1024, 200 * 1024, WEBHOOK_MAX_BYTES_DEFAULT])
def test_a_large_jwt_signed_invoice_is_accepted_once(
    webhook_app, gunicorn_url, connect_lago, lago_keys, size
):
    connect_lago("jwt")
    body = invoice_body(size)
    headers = jwt_headers(body, lago_keys, key=f"invoice-{size}")
    assert len(headers["X-Lago-Signature"]) > 4 * size // 3

    first = post(gunicorn_url, body, headers)
    again = post(gunicorn_url, body, headers)

    assert (first.status_code, again.status_code) == (200, 200), first.text
    [event] = stored(webhook_app)
    assert (event.unique_key, event.event_type) == (f"invoice-{size}", "invoice.created")
    assert event.body.encode() == body
    assert (event.status, event.duplicates) == (EventStatus.received, 1)


def test_a_body_over_the_limit_is_refused_with_413_and_recorded(
    webhook_app, gunicorn_url, connect_lago, lago_keys
):
    connect_lago("jwt")
    body = invoice_body(WEBHOOK_MAX_BYTES_DEFAULT + 1)

    response = post(gunicorn_url, body, jwt_headers(body, lago_keys))

    assert response.status_code == 413
    assert response.json() == {"error": "The body is larger than this endpoint accepts."}
    assert stored(webhook_app) == []
    with webhook_app.app_context():
        [failure] = db.session.scalars(sa.select(SignatureFailure))
        assert "PIER_WEBHOOK_MAX_BYTES" in failure.reason


def test_a_signature_header_beyond_any_accepted_body_is_refused_by_gunicorn(
    webhook_app, gunicorn_url, connect_lago, lago_keys
):
    connect_lago("jwt")
    body = invoice_body(WEBHOOK_MAX_BYTES_DEFAULT * 2)

    response = post(gunicorn_url, body, jwt_headers(body, lago_keys))

    assert response.status_code in (400, 431)
    assert "header" in response.text.lower()
    assert stored(webhook_app) == []


def test_a_streamed_3_mib_login_is_refused_with_413_not_cut_short(webhook_app, gunicorn_url):
    def chunks():
        yield b"email=a%40example.com&password="
        for _ in range(48):
            yield b"x" * 65536

    response = httpx.post(
        gunicorn_url + "/login",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert response.status_code == 413
    assert "larger than Pier accepts" in response.text
