"""The dispatcher: the request only stores; every stored event reaches the queue once, soon."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

from jobs import dispatcher, runtime
from portal.extensions import db
from portal.models import EventStatus, WebhookEvent
from portal.webhooks import inbox
from tests.integration.webhooks.conftest import hmac_headers, lago_body

URL = "/webhooks/lago"


@pytest.fixture
def hmac_connected(connect_lago):
    connect_lago("hmac")


def deliver(client, count: int = 1) -> None:
    for _ in range(count):
        body = lago_body()
        assert client.post(URL, data=body, headers=hmac_headers(body)).status_code == 200


def stored(app) -> list[WebhookEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebhookEvent).order_by(WebhookEvent.id)))


def test_an_acknowledged_event_is_processed_within_seconds_by_the_running_loop(
    webhook_app, client, hmac_connected, registry, webhook_queue, redis_conn
):
    runtime.use_app(webhook_app)
    stop = threading.Event()
    loop = threading.Thread(target=dispatcher.run, args=(stop, 0.05))
    loop.start()
    try:
        deliver(client)
        acknowledged = time.monotonic()
        [event] = stored(webhook_app)
        worker = SimpleWorker([webhook_queue], connection=redis_conn)
        while stored(webhook_app)[0].status is not EventStatus.processed:
            assert time.monotonic() - acknowledged < 5, "not processed within 5 s"
            worker.work(burst=True)
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(10)
        runtime.use_app(None)
    assert registry.calls == [(event.id, "customer.updated")]


def test_the_request_queues_nothing_even_with_redis_down(
    webhook_app, client, hmac_connected, webhook_queue, monkeypatch
):
    monkeypatch.setattr(inbox, "queue_events", lambda ids: pytest.fail("the request queued"))
    deliver(client)
    [event] = stored(webhook_app)
    assert event.status is EventStatus.received and event.enqueued_at is None
    assert webhook_queue.count == 0


def test_a_crash_before_the_batch_reaches_redis_loses_nothing(
    webhook_app, client, hmac_connected, registry, run_worker, monkeypatch
):
    deliver(client, 3)

    def crash(ids):
        raise SystemExit("the worker died while queueing")

    with monkeypatch.context() as patched:
        patched.setattr(inbox, "queue_events", crash)
        runtime.use_app(webhook_app)
        with pytest.raises(SystemExit):
            dispatcher.dispatch_once()
    assert all(e.enqueued_at is None for e in stored(webhook_app))

    run_worker()
    assert [e.status for e in stored(webhook_app)] == [EventStatus.processed] * 3
    assert sorted(call[0] for call in registry.calls) == [e.id for e in stored(webhook_app)]


def test_a_crash_after_queueing_before_the_commit_processes_each_event_once(
    webhook_app, client, hmac_connected, registry, run_worker, monkeypatch
):
    deliver(client, 3)
    real_queue_events = inbox.queue_events

    def queue_then_crash(ids):
        real_queue_events(ids)
        raise SystemExit("the worker died before committing")

    with monkeypatch.context() as patched:
        patched.setattr(inbox, "queue_events", queue_then_crash)
        runtime.use_app(webhook_app)
        with pytest.raises(SystemExit):
            dispatcher.dispatch_once()
    assert all(e.enqueued_at is None for e in stored(webhook_app))  # so they go out again

    run_worker()  # dispatches the same events again, then runs both copies of each job
    assert [e.status for e in stored(webhook_app)] == [EventStatus.processed] * 3
    assert sorted(call[0] for call in registry.calls) == [e.id for e in stored(webhook_app)]


def test_with_redis_down_the_events_wait_and_go_out_once_it_is_back(
    webhook_app, client, hmac_connected, webhook_queue, monkeypatch
):
    deliver(client, 2)
    runtime.use_app(webhook_app)
    with monkeypatch.context() as patched:
        patched.setattr(inbox, "queue_events", lambda ids: [])
        with pytest.raises(dispatcher.QueueUnavailable):
            dispatcher.dispatch_once()
    assert all(e.enqueued_at is None for e in stored(webhook_app))
    assert dispatcher.dispatch_all() == 2
    assert webhook_queue.count == 2


def test_two_dispatchers_side_by_side_never_queue_the_same_event_twice(
    webhook_app, client, hmac_connected, monkeypatch
):
    deliver(client, 60)
    queued: list[int] = []
    real_queue_events = inbox.queue_events

    def slow_queue(ids):
        time.sleep(0.02)  # hold the claimed rows while the other dispatcher looks
        queued.extend(ids)
        return real_queue_events(ids)

    monkeypatch.setattr(inbox, "queue_events", slow_queue)
    runtime.use_app(webhook_app)
    barrier = threading.Barrier(2)
    passes: list[int] = []

    def run() -> None:
        barrier.wait()
        passes.append(dispatcher.dispatch_all(limit=7))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ids = [e.id for e in stored(webhook_app)]
    assert sorted(queued) == ids  # every event once, none twice
    assert sum(passes) == 60
    if webhook_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert all(passes), "both dispatchers took a share side by side"
