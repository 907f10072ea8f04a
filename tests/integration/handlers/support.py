"""Helpers for the webhook handler tests: payload files, inbox events, the emails worker."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from rq import SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry

from portal import queues
from portal.extensions import db
from portal.models import EventSource, EventStatus, WebhookEvent, utcnow
from portal.webhooks import registry

PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "payloads"
EXTERNAL_ID = "pier_acme"  # the Lago customer of every payload file
STRIPE_CUSTOMER = "cus_QAcme12345678"


def payload(file: str, source: str = "lago", /, **changes: Any) -> dict[str, Any]:
    """A payload file, with `changes` merged into its object (nested dicts merged too)."""
    body = json.loads((PAYLOADS / source / f"{file}.json").read_text())
    if changes:
        target = body["data"]["object"] if source == "stripe" else body[body["object_type"]]
        merge(target, changes)
    return body


def merge(target: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge `changes` into `target` in place; nested dicts are merged, the rest replaced."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def iso(moment: datetime) -> str:
    """A timestamp as Lago writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days: float) -> str:
    return iso(utcnow() - timedelta(days=days))


@dataclass(frozen=True)
class Delivered:
    """What dispatching one inbox event gave."""

    event_id: int
    outcome: str
    note: str | None


def deliver(
    app: Flask, body: dict[str, Any], *, unique_key: str | None = None, source: str | None = None
) -> Delivered:
    """Store the body as an inbox event, dispatch it, commit, as the processing job does."""
    source = source or ("stripe" if body.get("object") == "event" else "lago")
    event_type = body.get("type") if source == "stripe" else body.get("webhook_type")
    with app.app_context():
        event = WebhookEvent(
            source=EventSource(source),
            unique_key=unique_key or str(uuid.uuid4()),
            event_type=event_type or "unknown",
            object_type=body.get("object_type"),
            body=json.dumps(body),
            headers={},
            status=EventStatus.processing,
            attempts=1,
        )
        db.session.add(event)
        db.session.commit()
        try:
            outcome = registry.dispatch(event)
        except Exception:
            db.session.rollback()
            raise
        event.status = EventStatus.ignored if outcome == "ignored" else EventStatus.processed
        event.processed_at = utcnow()
        db.session.commit()
        return Delivered(event.id, outcome, event.note)


def deliver_at_once(app: Flask, bodies: list[dict[str, Any]]) -> list[Delivered | BaseException]:
    """Dispatch each body in its own thread, all released together; results in order."""
    barrier = threading.Barrier(len(bodies))
    results: list[Delivered | BaseException | None] = [None] * len(bodies)

    def run(index: int, body: dict[str, Any]) -> None:
        barrier.wait()
        try:
            results[index] = deliver(app, body)
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results  # type: ignore[return-value]


def run_jobs(app: Flask, queue: str = "emails") -> int:
    """Run every queued job of a queue with a real RQ worker, then stop; fails on a failed job."""
    from jobs import runtime

    runtime.use_app(app)
    if queue == "webhooks":
        from jobs.dispatcher import dispatch_all

        dispatch_all()
    with app.app_context():
        jobs = queues.queue(queue)
    connection = jobs.connection
    pending = jobs.count
    SimpleWorker([jobs], connection=connection).work(burst=True)
    failed = FailedJobRegistry(queue=jobs)
    if failed.count:
        problems = []
        for job_id in failed.get_job_ids():
            job = Job.fetch(job_id, connection=connection)
            result = job.latest_result()
            problems.append(f"{job.func_name}{job.args}: {result.exc_string if result else ''}")
        raise AssertionError("\n".join(problems))
    return pending


def rows(app: Flask, model: Any, *where: Any) -> list[Any]:
    """Every row of a model (matching `where`), detached from the session."""
    with app.app_context():
        query = sa.select(model).where(*where).order_by(model.id)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def call(app: Flask, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a function in an app context and commit what it wrote."""
    with app.app_context():
        result = func(*args, **kwargs)
        db.session.commit()
        return result


class LagoOutbox:
    """The stand-in's webhooks, kept back and handed to the registry as the processing job does."""

    def __init__(self, app: Flask, standin: Any) -> None:
        self.app = app
        self.standin = standin
        self.dispatched: set[str] = set()

    def bodies(self, webhook_type: str | None = None) -> list[dict[str, Any]]:
        """Every webhook body the stand-in sent (of one type), oldest first."""
        filters = {"webhook_type": webhook_type} if webhook_type else {}
        return [json.loads(r["payload"]) for r in self.standin.webhooks(**filters)]

    def dispatch_new(self) -> list[tuple[str, Delivered]]:
        """Dispatch, in order, every webhook sent since the last call."""
        done = []
        for record in self.standin.webhooks():
            if record["id"] in self.dispatched:
                continue
            self.dispatched.add(record["id"])
            body = json.loads(record["payload"])
            done.append((record["webhook_type"], deliver(self.app, body, unique_key=record["id"])))
        return done


def create_lago_customer(standin: Any, card: str | None = "succeeds", **billing: Any) -> dict:
    """Acme as a Lago customer of the stand-in, with a Stripe customer Lago created and the
    `card` the customer added through Lago's checkout URL (None: no card yet)."""
    configuration = {
        "payment_provider": "stripe",
        "payment_provider_code": "stripe",
        "sync_with_provider": True,
        **billing,
    }
    body = {
        "customer": {
            "external_id": EXTERNAL_ID,
            "name": "Acme Inc.",
            "email": "accounts@acme.test",
            "currency": "USD",
            "timezone": "Europe/Lisbon",
            "billing_configuration": configuration,
        }
    }
    with standin.client() as client:
        reply = client.post("/customers", json=body)
    assert reply.status_code == 200, reply.text
    if card and configuration.get("sync_with_provider"):
        control(standin, "POST", f"/setup/{EXTERNAL_ID}", json={"card": card})
    return reply.json()["customer"]


def lago_call(standin: Any, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """One call to the stand-in's Lago API that must succeed; the decoded body ({} if empty)."""
    with standin.client() as client:
        reply = client.request(method, path, **kwargs)
    assert reply.status_code in (200, 201, 204), reply.text
    return reply.json() if reply.content else {}


def control(standin: Any, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """One call to the stand-in's control API that must succeed."""
    with standin.control() as client:
        reply = client.request(method, path, **kwargs)
    assert reply.status_code == 200, reply.text
    return reply.json()
