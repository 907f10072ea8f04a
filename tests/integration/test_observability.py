"""GET /metrics (protected, counters that move with real requests, gauges read when scraped),
request ids on every response and log line, and carried into the jobs a request queues."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry

from jobs import runtime
from jobs.runtime import in_app_context
from portal import queues
from portal.extensions import db
from portal.mail import send_mail
from portal.models import EventSource, WebhookEvent
from portal.observability import correlation

TOKEN = "metrics-token-for-tests"  # noqa: S105


@in_app_context
def report_request_id() -> str | None:
    """A job that answers the id it runs under."""
    logging.getLogger("tests.jobs").info("job ran")
    return correlation.current()


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """GET /metrics with the token, as {(name, labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_on(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def test_metrics_are_not_served_without_a_token_setting(app, client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_metrics_want_the_bearer_token(metrics_on, client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert b"pier_" not in response.data
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_request_counters_and_latency_move_with_requests(metrics_on, client):
    labels = {"endpoint": "auth.login", "method": "GET"}
    before = scrape(client)
    for _ in range(3):
        assert client.get("/login").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    after = scrape(client)
    counted = "pier_http_requests_total"
    assert value(after, counted, **labels, status="200") == (
        value(before, counted, **labels, status="200") + 3
    )
    timed = "pier_http_request_duration_seconds_count"
    assert value(after, timed, **labels) == value(before, timed, **labels) + 3
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert value(after, counted, **unmatched) == value(before, counted, **unmatched) + 1


def test_queue_depth_failed_jobs_and_webhook_backlog_are_read_when_scraped(metrics_on, client):
    with metrics_on.app_context():
        queues.enqueue("default", "jobs.reconcile.reconcile_all")
        queues.enqueue("default", "jobs.reconcile.reconcile_all")
        failing = queues.enqueue("emails", "jobs.reconcile.reconcile_all")
        FailedJobRegistry(queue=queues.queue("emails")).add(failing, ttl=60)
        db.session.add(
            WebhookEvent(
                source=EventSource.lago,
                unique_key="waiting-1",
                event_type="invoice.created",
                body="{}",
                headers={},
            )
        )
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "pier_queue_jobs", queue="default") == 2
    assert value(samples, "pier_failed_jobs", queue="emails") == 1
    assert value(samples, "pier_failed_jobs", queue="default") == 0
    assert value(samples, "pier_webhooks_waiting", source="lago") == 1
    assert value(samples, "pier_webhooks_waiting", source="stripe") == 0
    assert value(samples, "pier_webhook_oldest_waiting_seconds", source="lago") >= 0


def test_a_request_id_is_given_back_logged_and_refused_when_unsafe(app, client, caplog):
    with caplog.at_level(logging.INFO, "portal.requests"):
        given = client.get("/login", headers={"X-Request-ID": "trace-login-1"})
        unsafe = client.get("/login", headers={"X-Request-ID": "bad\x7fid"})
    assert given.headers["X-Request-ID"] == "trace-login-1"
    assert unsafe.headers["X-Request-ID"] not in ("", "bad\x7fid")
    [line] = [r for r in caplog.records if r.request_id == "trace-login-1"]
    assert (line.method, line.path, line.endpoint, line.status) == (
        "GET",
        "/login",
        "auth.login",
        200,
    )
    assert correlation.current() is None, "the id does not outlive its request"


def test_a_job_runs_under_the_request_id_that_queued_it(app, caplog):
    runtime.use_app(app)
    try:
        with app.app_context():
            with correlation.bound("trace-job-1"):
                carried = queues.enqueue("default", f"{__name__}.report_request_id")
            own = queues.enqueue("default", f"{__name__}.report_request_id")
            jobs = queues.queue("default")
        assert carried.meta["request_id"] == "trace-job-1"
        assert "request_id" not in own.meta
        with caplog.at_level(logging.INFO, "tests.jobs"):
            SimpleWorker([jobs], connection=jobs.connection).work(burst=True)
    finally:
        runtime._app = None
    assert Job.fetch(carried.id, connection=jobs.connection).return_value() == "trace-job-1"
    assert Job.fetch(own.id, connection=jobs.connection).return_value() == f"job-{own.id}"
    assert {r.request_id for r in caplog.records if r.name == "tests.jobs"} == {
        "trace-job-1",
        f"job-{own.id}",
    }


def test_emails_are_counted_and_logged_under_the_request_id(metrics_on, client, mailbox, caplog):
    before = scrape(client)
    with (
        metrics_on.test_request_context(),
        correlation.bound("trace-mail-1"),
        caplog.at_level(logging.INFO, "portal.mail"),
    ):
        assert send_mail("ann@acme.test", "Welcome", "invitation", **invitation_context())
    after = scrape(client)
    assert value(after, "pier_emails_sent_total") == value(before, "pier_emails_sent_total") + 1
    [line] = [r for r in caplog.records if r.getMessage() == "email sent"]
    assert line.request_id == "trace-mail-1"
    assert line.mail_to == "ann@acme.test"
    assert len(mailbox.to("ann@acme.test")) == 1


def invitation_context() -> dict:
    tenant, role = SimpleNamespace(name="Acme Inc."), SimpleNamespace(label="Member")
    invitation = SimpleNamespace(invited_by=None, tenant=tenant, role=role)
    return {"invitation": invitation, "link": "http://127.0.0.1:5000/invitation/sample"}


def test_the_audit_log_finds_an_action_by_its_request_id(app, as_role):
    admin, _ = as_role("admin")
    owner, _ = as_role("owner")
    profile = {"name": "Renamed", "email": "renamed@example.com", "timezone": "UTC"}
    owner.submit("/account/", profile, headers={"X-Request-ID": "trace-audit-1"})
    owner.submit("/account/", profile | {"name": "Again"}, headers={"X-Request-ID": "trace-2"})

    found = admin.get("/admin/audit?request_id=trace-audit-1").get_data(as_text=True)
    assert found.count("user.profile_updated") == 1
    assert "trace-audit-1" in found
    assert "Again" not in found
    assert "Nothing matches." in admin.get("/admin/audit?request_id=nobody").get_data(as_text=True)


def test_admin_pages_show_the_ids_the_logs_use(app, as_role):
    admin, _ = as_role("admin")
    with app.app_context():
        with correlation.bound("trace-failed-1"):
            job = queues.enqueue("emails", "jobs.reconcile.reconcile_all")
        FailedJobRegistry(queue=queues.queue("emails")).add(job, ttl=60, exc_string="Boom")
        event = WebhookEvent(
            source=EventSource.stripe,
            unique_key="evt_shown",
            event_type="payment_method.attached",
            body="{}",
            headers={},
        )
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    jobs_page = admin.get("/admin/jobs").get_data(as_text=True)
    assert "trace-failed-1" in jobs_page
    detail = admin.get(f"/admin/webhooks/{event_id}").get_data(as_text=True)
    assert f"wh-stripe-{event_id}" in detail


def test_probes_are_counted_but_not_logged_unless_they_fail(metrics_on, client, caplog):
    before = scrape(client)
    with caplog.at_level(logging.INFO, "portal.requests"):
        assert client.get("/healthz").status_code == 200
    labels = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    counted = "pier_http_requests_total"
    assert value(scrape(client), counted, **labels) == value(before, counted, **labels) + 1
    assert [r for r in caplog.records if getattr(r, "endpoint", "") == "health.healthz"] == []
    with caplog.at_level(logging.INFO, "portal.requests"):
        assert client.get("/metrics").status_code == 401
    assert [r.status for r in caplog.records if hasattr(r, "endpoint")] == [401]
