"""Two Piers sharing one Redis database: neither runs the other's jobs or spends its rate limits."""

from __future__ import annotations

import pytest
import redis
from rq import SimpleWorker

from jobs import runtime
from jobs.worker import cron_scheduler, instance_worker
from portal import create_app
from portal.billing.customers import request_sync
from portal.extensions import db
from portal.models import SyncState, Tenant
from portal.queues import QUEUES, queue
from tests.conftest import PierClient, base_config

RQ_INDEXES = {"rq:queues", "rq:workers"}


@pytest.fixture
def other_app(app, smtp_server):
    """A second Pier on the same Redis database (and, to watch both, the same database)."""
    other = create_app(
        base_config(app.config["SQLALCHEMY_DATABASE_URI"], app.config["REDIS_URL"], smtp_server.url)
        | {"PIER_INSTANCE": "staging"}
    )
    other.test_client_class = PierClient
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    runtime.use_app(None)


def work(app) -> None:
    """Run, with a real RQ worker of this app's instance, everything its queues hold."""
    runtime.use_app(app)
    with app.app_context():
        worker = instance_worker(QUEUES, SimpleWorker)
    worker.work(burst=True)


def queued(app) -> dict[str, list[str]]:
    with app.app_context():
        return {name: queue(name).job_ids for name in QUEUES}


def sync_state(app, tenant_id: int) -> SyncState:
    with app.app_context():
        return db.session.get(Tenant, tenant_id).sync_state


def test_a_job_queued_by_one_instance_is_run_only_by_its_own_worker(app, other_app):
    assert app.config["PIER_INSTANCE"].startswith("pier-")  # derived from the database URL
    with app.app_context():
        tenant = Tenant(name="Acme Inc.")
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id
        job = request_sync(tenant_id)
    assert job.id == f"{app.config['PIER_INSTANCE']}-sync-tenant-{tenant_id}"
    assert job.origin == f"{app.config['PIER_INSTANCE']}:sync"
    assert queued(other_app) == dict.fromkeys(QUEUES, [])

    work(other_app)
    assert sync_state(app, tenant_id) is SyncState.pending
    assert queued(app)["sync"] == [job.id]

    work(app)
    assert sync_state(app, tenant_id) is SyncState.failed  # ran: billing is not connected
    assert queued(app)["sync"] == []

    # Every key names its instance, but RQ's own indexes of queue and worker names.
    keys = {key.decode() for key in redis.Redis.from_url(app.config["REDIS_URL"]).scan_iter()}
    instances = (app.config["PIER_INSTANCE"], other_app.config["PIER_INSTANCE"])
    assert {key for key in keys if not any(name in key for name in instances)} <= RQ_INDEXES


def test_rate_limits_are_counted_per_instance(app, other_app, make_person):
    for each in (app, other_app):
        each.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    person = make_person("member")

    def attempts(pier, count: int) -> list[int]:
        client = pier.test_client()
        form = {"email": person.email, "password": "a wrong guess"}
        return [client.submit("/login", form).status_code for _ in range(count)]

    assert attempts(app, 3) == [200, 200, 429]
    assert attempts(other_app, 3) == [200, 200, 429]

    instances = (app.config["PIER_INSTANCE"], other_app.config["PIER_INSTANCE"])
    keys = [key.decode() for key in redis.Redis.from_url(app.config["REDIS_URL"]).scan_iter()]
    limits = [key for key in keys if key.startswith("LIMITS:")]
    assert limits and all(any(name in key for name in instances) for key in limits)
    for name in instances:
        assert any(f"{name}:login-email:{person.email}" in key for key in limits)
        assert any(f"{name}:ip:" in key for key in limits)


def test_the_cron_schedule_runs_on_the_instance_queues(app):
    with app.app_context():
        scheduler = cron_scheduler()
    instance = app.config["PIER_INSTANCE"]
    names = {job.queue_name for job in scheduler.get_jobs()}
    assert names == {f"{instance}:{name}" for name in QUEUES}
    assert scheduler.name.startswith(f"{instance}-")
