"""Signed bodies Pier cannot process are kept as dead and answered 400, never a 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import EventStatus, WebhookEvent
from tests.integration.webhooks.conftest import hmac_headers, jwt_headers
from tests.integration.webhooks.test_stripe_signatures import signed

NUL_IN_TYPE = (
    b'{"webhook_type":"invoice.created\\u0000","object_type":"invoice","id":"evt_nul",'
    b'"invoice":{"lago_id":"inv\\u0000"},"type":"x\\u0000"}'
)
NUL_RAW = b'{"webhook_type":"invoice.created","id":"evt_raw","note":"a\x00b"}'
DEEP = (
    b'{"id":"evt_deep","webhook_type":"invoice.created","x":' + b"[" * 20_000 + b"]" * 20_000 + b"}"
)
ESCAPED_BACKSLASH = b'{"webhook_type":"customer.updated","id":"evt_ok","note":"C:\\\\u0000"}'

BODIES = {"nul escape": NUL_IN_TYPE, "raw nul": NUL_RAW, "nested 20,000 levels": DEEP}


def _dead(app) -> WebhookEvent:
    with app.app_context():
        [event] = db.session.scalars(sa.select(WebhookEvent))
        return event


@pytest.mark.parametrize("signing", ["jwt", "hmac"])
@pytest.mark.parametrize("name", list(BODIES))
def test_lago_keeps_the_body_as_dead_and_answers_400(
    webhook_app, client, connect_lago, lago_keys, signing, name
):
    connect_lago(signing)
    body = BODIES[name]
    headers = jwt_headers(body, lago_keys) if signing == "jwt" else hmac_headers(body)

    response = client.post("/webhooks/lago", data=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["error"]
    event = _dead(webhook_app)
    assert (event.status, event.event_type) == (EventStatus.dead, "unreadable")
    assert event.last_error == response.get_json()["error"]
    assert "\x00" not in event.body and len(event.body) == len(body.decode("utf-8", "replace"))


@pytest.mark.parametrize("name", list(BODIES))
def test_stripe_keeps_the_body_as_dead_and_answers_400(webhook_app, client, name):
    body = BODIES[name]
    response = client.post("/webhooks/stripe", data=body, headers=signed(body))
    assert response.status_code == 400
    assert _dead(webhook_app).status is EventStatus.dead


def test_an_escaped_backslash_before_u0000_is_ordinary_text(webhook_app, client, connect_lago):
    connect_lago("hmac")
    response = client.post(
        "/webhooks/lago", data=ESCAPED_BACKSLASH, headers=hmac_headers(ESCAPED_BACKSLASH)
    )
    assert response.status_code == 200
    assert _dead(webhook_app).status is EventStatus.received
