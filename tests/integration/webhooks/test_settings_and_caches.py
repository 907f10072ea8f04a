"""Settings of the inbox, and the per-process caches on the hot path."""

from __future__ import annotations

import sqlalchemy as sa

from portal import crypto
from portal.config import from_environment
from portal.extensions import db
from portal.models import BillingConnection
from portal.webhooks import inbox, verify
from tests.integration.webhooks.conftest import hmac_headers, jwt_headers, lago_body

URL = "/webhooks/lago"


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRETS", " whsec_new , whsec_old,, ")
    monkeypatch.setenv("PIER_WEBHOOK_MAX_BYTES", "4096")
    config = from_environment(str(tmp_path))
    assert config["STRIPE_WEBHOOK_SECRETS"] == ["whsec_new", "whsec_old"]
    assert config["WEBHOOK_MAX_BYTES"] == 4096


def test_defaults_without_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRETS", raising=False)
    monkeypatch.delenv("PIER_WEBHOOK_MAX_BYTES", raising=False)
    config = from_environment(str(tmp_path))
    assert config["STRIPE_WEBHOOK_SECRETS"] == []
    assert config["WEBHOOK_MAX_BYTES"] == 256 * 1024


def test_a_changed_key_is_read_again_once_the_cache_expires(
    webhook_app, client, connect_lago, monkeypatch
):
    connect_lago("hmac")
    body = lago_body()
    assert client.post(URL, data=body, headers=hmac_headers(body)).status_code == 200
    with webhook_app.app_context():
        connection = db.session.scalars(sa.select(BillingConnection)).one()
        connection.hmac_key_encrypted = crypto.encrypt("the-rotated-key")
        db.session.commit()

    rotated = lago_body()
    headers = hmac_headers(rotated, secret="the-rotated-key")
    assert client.post(URL, data=rotated, headers=headers).status_code == 401

    later = inbox.time.monotonic() + inbox.KEYS_TTL_SECONDS + 1
    monkeypatch.setattr(inbox.time, "monotonic", lambda: later)
    assert client.post(URL, data=rotated, headers=headers).status_code == 200


def test_the_public_key_is_parsed_once(webhook_app, client, connect_lago, lago_keys):
    connect_lago("jwt")
    verify.load_public_key.cache_clear()
    for _ in range(3):
        body = lago_body()
        assert client.post(URL, data=body, headers=jwt_headers(body, lago_keys)).status_code == 200
    info = verify.load_public_key.cache_info()
    assert (info.misses, info.currsize) == (1, 1)
