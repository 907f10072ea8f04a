"""Every Lago error body and every broken answer maps to one LagoError with a sentence."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from portal.lago import (
    LagoAPIError,
    LagoAuthError,
    LagoBadRequest,
    LagoConnectionError,
    LagoConnectionRefused,
    LagoDNSError,
    LagoError,
    LagoFeatureUnavailable,
    LagoForbidden,
    LagoInvalidURL,
    LagoNotAllowed,
    LagoNotFound,
    LagoNotLagoAPI,
    LagoRateLimited,
    LagoServerError,
    LagoTimeout,
    LagoTLSError,
    LagoUnexpectedResponse,
    LagoValidationError,
)
from portal.lago._network import error_for_transport
from portal.lago._responses import describe_validation
from tests.unit.lago.fakes import lago_json

HTML = (
    "<!doctype html><html><head><title>Lago</title></head><body><div id=root></div></body></html>"
)


def raise_for(make_client, response: httpx.Response) -> LagoError:
    client = make_client(lambda r: response, max_retries=0)
    with pytest.raises(LagoError) as caught:
        client.get_customer("acme-42")
    return caught.value


def assert_readable(error: LagoError) -> None:
    """A sentence and a hint, never raw JSON, HTML or a traceback."""
    for text in (error.message, error.hint):
        assert text
        assert text[0].isupper()
        assert text.endswith((".", "!")) or "://" in text
        assert not any(mark in text for mark in ("{", "}", "<", "Traceback"))
    assert str(error) == error.message


def test_401_is_an_auth_error(make_client):
    error = raise_for(make_client, lago_json(401, {"status": 401, "error": "Unauthorized"}))
    assert type(error) is LagoAuthError
    assert error.message == "Lago rejected the API key."
    assert error.hint == "Copy the key again from Lago › Developers › API keys."
    assert error.status == 401
    assert error.code is None
    assert error.request == "GET /customers/acme-42"
    assert_readable(error)


def test_400_is_a_bad_request(make_client):
    body = {"status": 400, "error": "BadRequest: param is missing or the value is empty: customer"}
    error = raise_for(make_client, lago_json(400, body))
    assert type(error) is LagoBadRequest
    assert error.details == {"error": body["error"]}
    assert_readable(error)


def test_403_feature_unavailable_is_premium(make_client):
    body = {"status": 403, "error": "Forbidden", "code": "feature_unavailable"}
    error = raise_for(make_client, lago_json(403, body))
    assert type(error) is LagoFeatureUnavailable
    assert isinstance(error, LagoForbidden)
    assert error.code == "feature_unavailable"
    assert "premium" in error.message
    assert_readable(error)


def test_403_not_enabled_code_is_premium(make_client):
    body = {"status": 403, "error": "Forbidden", "code": "projected_usage_not_enabled"}
    assert type(raise_for(make_client, lago_json(403, body))) is LagoFeatureUnavailable


def test_403_permission_code_names_the_resource(make_client):
    body = {"status": 403, "error": "Forbidden", "code": "read_action_not_allowed_for_customer"}
    error = raise_for(make_client, lago_json(403, body))
    assert type(error) is LagoForbidden
    assert error.message == "The Lago API key is not allowed to read customers."
    assert "read access to customer" in error.hint
    assert_readable(error)


def test_403_other_code_is_forbidden(make_client):
    body = {"status": 403, "error": "Forbidden", "code": "something_else"}
    error = raise_for(make_client, lago_json(403, body))
    assert type(error) is LagoForbidden
    assert error.code == "something_else"


def test_404_keeps_lago_code(make_client):
    body = {"status": 404, "error": "Not Found", "code": "customer_not_found"}
    error = raise_for(make_client, lago_json(404, body))
    assert type(error) is LagoNotFound
    assert error.code == "customer_not_found"
    assert error.message == "Lago could not find this customer."
    assert_readable(error)


def test_404_unknown_route(make_client):
    body = {"status": 404, "error": "Not Found", "code": "resource_not_found"}
    error = raise_for(make_client, lago_json(404, body))
    assert type(error) is LagoNotFound
    assert "up to date" in error.hint


def test_405_not_allowed(make_client):
    body = {"status": 405, "error": "Method Not Allowed", "code": "invalid_status"}
    error = raise_for(make_client, lago_json(405, body))
    assert type(error) is LagoNotAllowed
    assert error.message == "Lago cannot do this in the current state (invalid status)."
    assert_readable(error)


def test_405_premium_integration_missing(make_client):
    body = {"status": 405, "error": "Method Not Allowed", "code": "premium_integration_missing"}
    error = raise_for(make_client, lago_json(405, body))
    assert type(error) is LagoFeatureUnavailable
    assert error.status == 405


def test_422_validation_details_become_a_sentence(make_client):
    body = {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {
            "email": ["invalid_email_format"],
            "external_id": ["value_already_exist"],
            "currency": ["currencies_does_not_match"],
        },
    }
    error = raise_for(make_client, lago_json(422, body))
    assert type(error) is LagoValidationError
    assert error.code == "validation_errors"
    assert error.details == body["error_details"]
    assert error.field_errors["email"] == ["invalid_email_format"]
    assert error.message == (
        "Lago did not accept the data: email is not a valid email address; "
        "external ID is already used; currency: currencies does not match."
    )
    assert_readable(error)


def test_422_provider_error(make_client):
    body = {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "provider_error",
        "provider": {"code": "stripe-eu"},
        "error_details": {"code": "card_declined", "message": "Your card was declined."},
    }
    error = raise_for(make_client, lago_json(422, body))
    assert type(error) is LagoValidationError
    assert error.message == "The payment provider refused the request."
    assert_readable(error)


def test_describe_validation_handles_batches_base_and_many_problems():
    assert describe_validation({}) == "Lago did not accept the data."
    assert describe_validation({"base": ["plan_not_found"]}) == (
        "Lago did not accept the data: plan not found."
    )
    assert describe_validation({"0": {"transaction_id": ["value_already_exist"]}}) == (
        "Lago did not accept the data: item 1 transaction ID is already used."
    )
    many = {f"field_{n}": ["value_is_mandatory"] for n in range(7)}
    assert describe_validation(many).endswith("field 4 is required; and 2 more problems.")


def test_429_is_rate_limited_with_reset(make_client):
    response = httpx.Response(429, text="Too Many Requests", headers={"X-RateLimit-Reset": "12"})
    error = raise_for(make_client, response)
    assert type(error) is LagoRateLimited
    assert error.retry_after == 12.0
    assert error.transient
    assert_readable(error)


def test_429_provider_rate_limit(make_client):
    body = {
        "status": 429,
        "error": "Too Many Provider Requests",
        "code": "too_many_provider_requests",
        "error_details": {"provider_name": "stripe", "message": "slow down"},
    }
    error = raise_for(make_client, lago_json(429, body))
    assert type(error) is LagoRateLimited
    assert "payment provider" in error.message


def test_500_is_a_server_error(make_client):
    error = raise_for(
        make_client, lago_json(500, {"status": 500, "error": "Internal Server Error"})
    )
    assert type(error) is LagoServerError
    assert isinstance(error, LagoAPIError)
    assert not error.transient
    assert_readable(error)


def test_502_html_from_a_proxy_is_still_a_server_error(make_client):
    response = httpx.Response(502, html="<html><body><h1>502 Bad Gateway</h1></body></html>")
    error = raise_for(make_client, response)
    assert type(error) is LagoServerError
    assert error.message == "Lago is temporarily unavailable."


def test_unhealthy_health_check(make_client):
    body = {"version": "v1.51.0", "github_url": "x", "message": "Unhealthy", "details": "db down"}
    client = make_client(lambda r: lago_json(500, body))
    with pytest.raises(LagoServerError, match="unhealthy"):
        client.health()


@pytest.mark.parametrize("status", [200, 404, 401])
def test_html_page_is_not_the_lago_api(make_client, status):
    error = raise_for(make_client, httpx.Response(status, html=HTML))
    assert type(error) is LagoNotLagoAPI
    assert error.details["content_type"] == "text/html"
    assert "web page" in error.message or "not come from Lago" in error.message
    assert_readable(error)


def test_html_without_content_type_is_recognised(make_client):
    error = raise_for(make_client, httpx.Response(200, content=b"\n  <html><body>hi</body></html>"))
    assert type(error) is LagoNotLagoAPI


def test_plain_text_is_not_the_lago_api(make_client):
    error = raise_for(make_client, httpx.Response(200, text="Hello from nginx"))
    assert type(error) is LagoNotLagoAPI


def test_broken_json_is_unexpected(make_client):
    response = httpx.Response(
        200, content=b'{"customer": {"lago_id": ', headers={"content-type": "application/json"}
    )
    error = raise_for(make_client, response)
    assert type(error) is LagoUnexpectedResponse
    assert_readable(error)


def test_json_error_from_another_service_is_not_the_lago_api(make_client):
    error = raise_for(make_client, lago_json(404, {"message": "route not found"}))
    assert type(error) is LagoNotLagoAPI


def test_redirect_points_at_the_final_address(make_client):
    response = httpx.Response(
        301, headers={"Location": "https://lago.test/api/v1/customers/acme-42"}
    )
    error = raise_for(make_client, response)
    assert type(error) is LagoNotLagoAPI
    assert error.hint.endswith("https://lago.test")


def test_unknown_status_is_unexpected(make_client):
    error = raise_for(make_client, lago_json(418, {"status": 418, "error": "I'm a teapot"}))
    assert type(error) is LagoUnexpectedResponse
    assert "418" in error.message


def test_empty_success_body_is_unexpected_where_an_object_is_needed(make_client):
    error = raise_for(make_client, httpx.Response(200))
    assert type(error) is LagoUnexpectedResponse


def _chained(outer: httpx.HTTPError, cause: BaseException) -> httpx.HTTPError:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "expected", "transient"),
    [
        (
            _chained(httpx.ConnectError("x"), socket.gaierror(socket.EAI_NONAME, "unknown")),
            LagoDNSError,
            False,
        ),
        (
            _chained(httpx.ConnectError("x"), socket.gaierror(socket.EAI_AGAIN, "try again")),
            LagoDNSError,
            True,
        ),
        (
            _chained(httpx.ConnectError("x"), ConnectionRefusedError(111, "refused")),
            LagoConnectionRefused,
            True,
        ),
        (
            _chained(httpx.ConnectError("x"), ssl.SSLCertVerificationError(1, "verify")),
            LagoTLSError,
            False,
        ),
        (httpx.ConnectTimeout("x"), LagoTimeout, True),
        (httpx.ReadTimeout("x"), LagoTimeout, True),
        (httpx.PoolTimeout("x"), LagoTimeout, True),
        (httpx.RemoteProtocolError("x"), LagoConnectionError, True),
        (httpx.ReadError("x"), LagoConnectionError, True),
        (
            _chained(httpx.ConnectError("x"), OSError(113, "No route to host")),
            LagoConnectionError,
            True,
        ),
        (httpx.UnsupportedProtocol("x"), LagoInvalidURL, False),
        (httpx.InvalidURL("x"), LagoInvalidURL, False),
        (httpx.DecodingError("x"), LagoUnexpectedResponse, False),
    ],
)
def test_transport_failures_are_classified(exc, expected, transient):
    error = error_for_transport(exc)
    assert type(error) is expected
    assert error.transient is transient
    assert_readable(error)


def test_timeout_phase_and_sentences_differ():
    connect = error_for_transport(httpx.ConnectTimeout("x"))
    read = error_for_transport(httpx.ReadTimeout("x"))
    assert (connect.phase, read.phase) == ("connect", "read")
    assert connect.message != read.message


def test_tls_wrong_version_suggests_http():
    cause = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    cause.reason = "WRONG_VERSION_NUMBER"
    error = error_for_transport(_chained(httpx.ConnectError("x"), cause))
    assert type(error) is LagoTLSError
    assert "http://" in error.hint
