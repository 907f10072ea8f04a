"""Each HTTP attempt to Stripe is logged under the request id, timed and counted."""

import logging

import pytest
from prometheus_client import REGISTRY

from portal.observability import correlation
from portal.payments import PaymentError
from portal.payments.client import Payments


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_stripe_call_is_logged_timed_and_counted(stripe_standin, caplog):
    payments = Payments(stripe_standin.api_key, api_base=stripe_standin.url, max_retries=0)
    timed = {"method": "GET", "path": "/v1/account"}
    before = _sample("pier_stripe_request_duration_seconds_count", **timed)
    with caplog.at_level(logging.INFO, "portal.payments"), correlation.bound("trace-stripe-1"):
        payments.account()
    assert _sample("pier_stripe_request_duration_seconds_count", **timed) == before + 1
    [line] = [r for r in caplog.records if hasattr(r, "stripe_method")]
    assert line.request_id == "trace-stripe-1"
    assert (line.stripe_method, line.stripe_path, line.stripe_status) == ("GET", "/v1/account", 200)
    assert stripe_standin.api_key not in caplog.text


def test_a_refused_key_counts_as_an_error(stripe_standin):
    payments = Payments("sk_test_not_a_real_key", api_base=stripe_standin.url, max_retries=0)
    labels = {"method": "GET", "path": "/v1/account", "error": "HTTP 401"}
    before = _sample("pier_stripe_errors_total", **labels)
    with pytest.raises(PaymentError):
        payments.account()
    assert _sample("pier_stripe_errors_total", **labels) == before + 1
