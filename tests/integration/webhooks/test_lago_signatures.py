"""Lago deliveries: signed ones are stored once and queued; anything else is 401 and refused."""

from __future__ import annotations

import hashlib
import hmac
import json

import jwt
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import EventSource, EventStatus, SignatureFailure, WebhookEvent
from tests.integration.webhooks.conftest import ISSUER, hmac_headers, jwt_headers, lago_body

URL = "/webhooks/lago"


def events(app) -> list[WebhookEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebhookEvent).order_by(WebhookEvent.id)))


def failures(app) -> list[SignatureFailure]:
    with app.app_context():
        return list(db.session.scalars(sa.select(SignatureFailure)))


def assert_refused(app, response, reason_part: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json() == {"error": "The signature is not valid."}
    assert events(app) == []
    [failure] = failures(app)
    assert reason_part in failure.reason
    assert failure.source is EventSource.lago
    assert failure.ip == "127.0.0.1"


def test_a_jwt_signed_delivery_is_stored_queued_and_acknowledged(
    webhook_app, client, connect_lago, lago_keys, webhook_queue, event_job_id
):
    connect_lago("jwt")
    body = lago_body("customer.updated", lago_id="cus-1")
    headers = jwt_headers(body, lago_keys, key="key-1")

    response = client.post(URL, data=body, headers=headers)

    assert response.status_code == 200
    assert response.data == b""
    [event] = events(webhook_app)
    assert (event.source, event.unique_key, event.event_type) == (
        EventSource.lago,
        "key-1",
        "customer.updated",
    )
    assert (event.object_type, event.object_key) == ("customer", "cus-1")
    assert event.body == body.decode()
    assert event.status is EventStatus.received
    assert event.enqueued_at is not None
    assert event.headers["X-Lago-Signature"] == "[removed]"
    assert event.headers["X-Lago-Unique-Key"] == "key-1"
    assert headers["X-Lago-Signature"] not in str(event.headers)
    assert webhook_queue.job_ids == [event_job_id(event.id)]
    job = webhook_queue.fetch_job(event_job_id(event.id))
    assert job.func_name == "jobs.webhooks.process_event"
    assert job.args == (event.id,)
    assert job.retries_left == 2


def test_an_hmac_signed_delivery_is_accepted(webhook_app, client, connect_lago):
    connect_lago("hmac")
    body = lago_body()
    response = client.post(URL, data=body, headers=hmac_headers(body))
    assert response.status_code == 200
    assert len(events(webhook_app)) == 1


def test_a_forged_jwt_is_refused(webhook_app, client, connect_lago, other_keys):
    connect_lago("jwt")
    body = lago_body()
    response = client.post(URL, data=body, headers=jwt_headers(body, other_keys))
    assert_refused(webhook_app, response, "does not verify")


def test_a_body_changed_by_one_byte_is_refused(webhook_app, client, connect_lago, lago_keys):
    connect_lago("jwt")
    body = lago_body("customer.updated", lago_id="cus-1")
    headers = jwt_headers(body, lago_keys)
    tampered = body.replace(b"cus-1", b"cus-2")
    assert len(tampered) == len(body)
    response = client.post(URL, data=tampered, headers=headers)
    assert_refused(webhook_app, response, "data claim does not match")


def test_a_tampered_hmac_body_is_refused(webhook_app, client, connect_lago):
    connect_lago("hmac")
    body = lago_body("customer.updated", lago_id="cus-1")
    headers = hmac_headers(body)
    response = client.post(URL, data=body.replace(b"cus-1", b"cus-9"), headers=headers)
    assert_refused(webhook_app, response, "HMAC does not match")


def test_an_hmac_made_with_another_key_is_refused(webhook_app, client, connect_lago):
    connect_lago("hmac")
    body = lago_body()
    response = client.post(URL, data=body, headers=hmac_headers(body, secret="rotated-key"))
    assert_refused(webhook_app, response, "HMAC does not match")


def test_the_wrong_algorithm_header_is_refused(webhook_app, client, connect_lago):
    connect_lago("jwt")
    body = lago_body()
    response = client.post(URL, data=body, headers=hmac_headers(body))
    assert_refused(webhook_app, response, "not the configured jwt")


def test_a_jwt_from_another_issuer_is_refused_and_its_issuer_kept(
    webhook_app, client, connect_lago, lago_keys
):
    connect_lago("jwt")
    body = lago_body()
    headers = jwt_headers(body, lago_keys, issuer="http://lago-api:3000")
    response = client.post(URL, data=body, headers=headers)
    assert_refused(webhook_app, response, "JWT issuer is not the configured issuer")
    [failure] = failures(webhook_app)
    assert failure.issuer == "http://lago-api:3000"  # the signature verified with the saved key


@pytest.mark.parametrize(
    "tamper",
    ["another key", "another body", "an issuer that is not a string", "an issuer too long"],
)
def test_an_issuer_is_kept_only_from_a_token_that_is_otherwise_valid(
    webhook_app, client, connect_lago, lago_keys, other_keys, tamper
):
    connect_lago("jwt")
    body = lago_body()
    issuer = "http://lago-api:3000"
    if tamper == "another key":
        headers = jwt_headers(body, other_keys, issuer=issuer)
    elif tamper == "another body":
        headers = jwt_headers(lago_body(), lago_keys, issuer=issuer)
    else:
        headers = jwt_headers(body, lago_keys)
        claims = {"data": body.decode(), "iss": 3000 if "string" in tamper else "h" * 501}
        signed = json.dumps(claims).encode()  # jwt.encode would refuse a number
        headers["X-Lago-Signature"] = jwt.api_jws.encode(signed, lago_keys.private_pem, "RS256")
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 401
    [failure] = failures(webhook_app)
    assert failure.issuer is None


def test_a_jwt_whose_data_is_another_body_is_refused(webhook_app, client, connect_lago, lago_keys):
    connect_lago("jwt")
    signed, sent = lago_body(), lago_body()
    response = client.post(URL, data=sent, headers=jwt_headers(signed, lago_keys))
    assert_refused(webhook_app, response, "data claim does not match")


def test_a_jwt_without_data_is_refused(webhook_app, client, connect_lago, lago_keys):
    connect_lago("jwt")
    body = lago_body()
    headers = jwt_headers(body, lago_keys)
    headers["X-Lago-Signature"] = jwt.encode({"iss": ISSUER}, lago_keys.private_pem, "RS256")
    response = client.post(URL, data=body, headers=headers)
    assert_refused(webhook_app, response, "data claim does not match")


def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    webhook_app, client, connect_lago, lago_keys
):
    connect_lago("jwt")
    body = lago_body()
    headers = jwt_headers(body, lago_keys)
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    claims = jwt.utils.base64url_encode(json.dumps({"data": body.decode(), "iss": ISSUER}).encode())
    signing_input = header + b"." + claims
    mac = hmac.new(lago_keys.public_pem.encode(), signing_input, hashlib.sha256).digest()
    headers["X-Lago-Signature"] = (signing_input + b"." + jwt.utils.base64url_encode(mac)).decode()
    response = client.post(URL, data=body, headers=headers)
    assert_refused(webhook_app, response, "JWT rejected")


@pytest.mark.parametrize(
    ("missing", "reason"),
    [
        ("X-Lago-Signature", "missing X-Lago-Signature header"),
        ("X-Lago-Signature-Algorithm", "missing X-Lago-Signature-Algorithm header"),
    ],
)
def test_missing_signature_headers_are_refused(
    webhook_app, client, connect_lago, lago_keys, missing, reason
):
    connect_lago("jwt")
    body = lago_body()
    headers = jwt_headers(body, lago_keys)
    del headers[missing]
    response = client.post(URL, data=body, headers=headers)
    assert_refused(webhook_app, response, reason)


def test_a_malformed_jwt_is_refused(webhook_app, client, connect_lago, lago_keys):
    connect_lago("jwt")
    body = lago_body()
    headers = jwt_headers(body, lago_keys)
    headers["X-Lago-Signature"] = "not.a.jwt"
    response = client.post(URL, data=body, headers=headers)
    assert_refused(webhook_app, response, "JWT rejected")


def test_without_a_connection_lago_is_told_to_retry(webhook_app, client, lago_keys):
    body = lago_body()
    response = client.post(URL, data=body, headers=jwt_headers(body, lago_keys))
    assert response.status_code == 503
    assert "not connected" in response.get_json()["error"]
    assert events(webhook_app) == []
    assert failures(webhook_app) == []


def test_the_same_unique_key_is_stored_and_queued_once(
    webhook_app, client, connect_lago, lago_keys, webhook_queue
):
    connect_lago("jwt")
    body = lago_body()
    headers = jwt_headers(body, lago_keys, key="same-key")
    answers = [client.post(URL, data=body, headers=headers).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    [event] = events(webhook_app)
    assert event.duplicates == 2
    assert webhook_queue.count == 1


def test_a_signed_body_that_is_not_json_is_kept_as_dead_and_answered_400(
    webhook_app, client, connect_lago, webhook_queue
):
    connect_lago("hmac")
    body = b"{not json"
    response = client.post(URL, data=body, headers=hmac_headers(body, key="bad-json"))
    assert response.status_code == 400
    assert "not a JSON object" in response.get_json()["error"]
    [event] = events(webhook_app)
    assert (event.status, event.event_type, event.body) == (
        EventStatus.dead,
        "unreadable",
        "{not json",
    )
    assert webhook_queue.count == 0


def test_a_delivery_without_a_unique_key_is_keyed_by_its_body(webhook_app, client, connect_lago):
    connect_lago("hmac")
    body = lago_body()
    headers = hmac_headers(body)
    del headers["X-Lago-Unique-Key"]
    assert client.post(URL, data=body, headers=headers).status_code == 200
    assert client.post(URL, data=body, headers=headers).status_code == 200
    [event] = events(webhook_app)
    assert event.unique_key.startswith("sha256:")
    assert event.duplicates == 1


def test_a_body_over_the_limit_is_413(webhook_app, client, connect_lago):
    connect_lago("hmac")
    webhook_app.config["WEBHOOK_MAX_BYTES"] = 1024
    body = lago_body().replace(b"tenant-1", b"t" * 2000)
    response = client.post(URL, data=body, headers=hmac_headers(body))
    assert response.status_code == 413
    assert events(webhook_app) == []


def test_ingress_needs_no_csrf_token_or_session(webhook_app, connect_lago):
    connect_lago("hmac")
    webhook_app.config["WTF_CSRF_ENABLED"] = True
    client = webhook_app.test_client()
    body = lago_body()
    response = client.post(URL, data=body, headers=hmac_headers(body))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
