"""The inbox: record verified deliveries once, queue them, and track their processing."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from portal import crypto
from portal.extensions import db, redis_connection
from portal.models import BillingConnection, EventSource, EventStatus, SignatureFailure, utcnow
from portal.models import WebhookEvent as Event
from portal.queues import instance_id, queue
from portal.webhooks.verify import (
    LagoKeys,
    NotConfigured,
    SignatureRejected,
    verify_lago,
    verify_stripe,
)

QUEUE = "webhooks"
PROCESS_JOB = "jobs.webhooks.process_event"
# Seconds before each automatic retry; after the last one the event is dead.
RETRY_INTERVALS = (10, 60, 300, 1800, 7200)
CLAIMABLE = (EventStatus.received, EventStatus.failed)
REPLAYABLE = (EventStatus.failed, EventStatus.dead)
SECRET_HEADERS = frozenset({"x-lago-signature", "stripe-signature"})
DROPPED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
REMOVED = "[removed]"
SWEEP_LIMIT = 500
ISSUER_MAX = 500
# How long a process reuses the saved webhook keys before reading them again.
KEYS_TTL_SECONDS = 2.0

log = logging.getLogger(__name__)

events = Event.__table__
failures = SignatureFailure.__table__
connections = BillingConnection.__table__

_LAGO_KEYS = (
    sa.select(
        connections.c.webhook_algorithm,
        connections.c.webhook_public_key,
        connections.c.webhook_issuer,
        connections.c.hmac_key_encrypted,
    )
    .order_by(connections.c.id)
    .limit(1)
)


@dataclass(frozen=True)
class Envelope:
    """What Pier reads from a verified body before storing it."""

    unique_key: str
    event_type: str
    object_type: str | None = None
    object_key: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Receipt:
    """The answer to a delivery: an HTTP status and, when refused, why."""

    status: int
    reason: str | None = None
    event_id: int | None = None
    first: bool = False


def receive_lago(raw: bytes, headers, ip: str | None) -> Receipt:
    """Verify a Lago delivery, store it once, queue its processing (writes in autocommit)."""

    def receive(conn) -> Receipt:
        try:
            verify_lago(raw, headers, _lago_keys(conn))
        except NotConfigured as exc:
            return Receipt(503, exc.reason)
        except SignatureRejected as exc:
            _insert_failure(conn, EventSource.lago, exc.reason, ip, exc.issuer)
            return Receipt(401, exc.reason)
        envelope = describe_lago(raw, headers.get("X-Lago-Unique-Key"))
        return _store(conn, EventSource.lago, envelope, raw, headers)

    return _with_connection(receive)


def receive_stripe(raw: bytes, headers, ip: str | None) -> Receipt:
    """Verify a Stripe delivery against every configured secret, store it once, queue it."""
    secrets = current_app.config.get("STRIPE_WEBHOOK_SECRETS") or []

    def receive(conn) -> Receipt:
        try:
            verify_stripe(raw, headers.get("Stripe-Signature"), secrets)
        except NotConfigured as exc:
            return Receipt(503, exc.reason)
        except SignatureRejected as exc:
            _insert_failure(conn, EventSource.stripe, exc.reason, ip)
            return Receipt(401, exc.reason)
        return _store(conn, EventSource.stripe, describe_stripe(raw), raw, headers)

    return _with_connection(receive)


_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def _ingress_engine() -> sa.Engine:
    """An autocommit engine per database and process, without pre-ping (SQLite: the app's)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        return db.engine.execution_options(isolation_level="AUTOCOMMIT")
    engine = _engines.get(url)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(url) or sa.create_engine(
                url, isolation_level="AUTOCOMMIT", pool_size=8, max_overflow=24, pool_recycle=1800
            )
            _engines[url] = engine
    return engine


def _with_connection(receive):
    """Run `receive` on an ingress connection; once more if the server dropped the connection."""
    for attempt in (1, 2):
        try:
            with _ingress_engine().connect() as conn:
                return receive(conn)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def _lago_keys(conn) -> LagoKeys | None:
    """The saved verification settings, read at most once per WEBHOOK_KEYS_TTL seconds."""
    ttl = current_app.config.get("WEBHOOK_KEYS_TTL", KEYS_TTL_SECONDS)
    cached = current_app.extensions.get("pier_webhook_keys")
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    row = conn.execute(_LAGO_KEYS).first()
    if row is None:
        return None
    algorithm, public_key, issuer, hmac_encrypted = row
    keys = LagoKeys(
        algorithm=str(algorithm.value if hasattr(algorithm, "value") else algorithm),
        public_key_pem=public_key,
        issuer=issuer,
        hmac_key=crypto.decrypt(hmac_encrypted) if hmac_encrypted else None,
    )
    if ttl > 0:
        current_app.extensions["pier_webhook_keys"] = (now + ttl, keys)
    return keys


def record_refusal(source: EventSource, reason: str, ip: str | None) -> None:
    """Record a delivery refused before its signature could be checked (e.g. too large)."""
    _with_connection(lambda conn: _insert_failure(conn, source, reason, ip))


def forget_lago_keys() -> None:
    """Read the saved verification settings again on the next delivery in this process."""
    current_app.extensions.pop("pier_webhook_keys", None)


def _insert_failure(
    conn, source: EventSource, reason: str, ip: str | None, issuer: str | None = None
) -> None:
    conn.execute(
        failures.insert(),
        {
            "source": source,
            "reason": reason[:255],
            "ip": (ip or "")[:45] or None,
            # A longer issuer could not be saved as the connection's, so it is not offered.
            "issuer": issuer if issuer and len(issuer) <= ISSUER_MAX else None,
        },
    )


def _body_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# A JSON escape of NUL (an odd run of backslashes before u0000): no database text column holds it.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NOT_AN_OBJECT = "The body is not a JSON object."
HOLDS_NUL = "The body holds a NUL character (\\u0000), which Pier cannot store or process."


def _parse(raw: bytes) -> dict | str:
    """The body's JSON object, or why it cannot be processed."""
    if b"u0000" in raw and _NUL_ESCAPE.search(raw):
        return HOLDS_NUL
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return NOT_AN_OBJECT
    return payload if isinstance(payload, dict) else NOT_AN_OBJECT


def _text(value, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


def describe_lago(raw: bytes, unique_key: str | None) -> Envelope:
    """Type, object and key of a Lago body (the key falls back to the body's hash)."""
    key = _text(unique_key, 255) or _body_key(raw)
    payload = _parse(raw)
    if isinstance(payload, str):
        return Envelope(key, "unreadable", problem=payload)
    object_type = _text(payload.get("object_type"), 100)
    obj = payload.get(object_type) if object_type else None
    object_key = None
    if isinstance(obj, dict):
        object_key = _text(obj.get("lago_id") or obj.get("external_id"), 255)
    event_type = _text(payload.get("webhook_type"), 100) or "unknown"
    return Envelope(key, event_type, object_type, object_key)


def describe_stripe(raw: bytes) -> Envelope:
    """Type, object and key of a Stripe event (keyed by the event id)."""
    payload = _parse(raw)
    if isinstance(payload, str):
        return Envelope(_body_key(raw), "unreadable", problem=payload)
    key = _text(payload.get("id"), 255) or _body_key(raw)
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    object_type = object_key = None
    if isinstance(obj, dict):
        object_type, object_key = _text(obj.get("object"), 100), _text(obj.get("id"), 255)
    return Envelope(key, _text(payload.get("type"), 100) or "unknown", object_type, object_key)


def redact_headers(headers) -> dict[str, str]:
    """The delivery's headers without credentials; signature values are removed."""
    kept = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in DROPPED_HEADERS:
            continue
        kept[name] = REMOVED if lowered in SECRET_HEADERS else value[:2000]
    return kept


@lru_cache(maxsize=4)
def _upsert(dialect: str):
    """INSERT ... ON CONFLICT (source, unique_key) DO UPDATE SET duplicates = duplicates + 1."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(events)
        .on_conflict_do_update(
            index_elements=[events.c.source, events.c.unique_key],
            set_={"duplicates": events.c.duplicates + 1},
        )
        .returning(events.c.id, events.c.duplicates)
    )


_PG_UPSERT = """
INSERT INTO webhook_events (source, unique_key, event_type, object_type, object_key, body, headers,
    status, last_error, received_at, enqueued_at, attempts, duplicates)
VALUES (%(source)s, %(unique_key)s, %(event_type)s, %(object_type)s, %(object_key)s, %(body)s,
    %(headers)s::json, %(status)s, %(last_error)s, %(received_at)s, %(enqueued_at)s, 0, 0)
ON CONFLICT (source, unique_key) DO UPDATE SET duplicates = webhook_events.duplicates + 1
RETURNING id, duplicates
"""


def _upsert_event(conn, values: dict) -> tuple[int, int]:
    """Insert the event or count a duplicate, in one statement; returns (id, duplicates)."""
    if conn.dialect.name != "postgresql":
        return tuple(conn.execute(_upsert(conn.dialect.name), values).one())
    params = values | {
        "source": values["source"].value,
        "status": values["status"].value,
        "headers": json.dumps(values["headers"]),
        "received_at": utcnow(),
    }
    return conn.connection.driver_connection.execute(_PG_UPSERT, params).fetchone()


def _store(conn, source: EventSource, envelope: Envelope, raw: bytes, headers) -> Receipt:
    """Upsert the event; the first delivery is queued (enqueued_at is cleared if that fails)."""
    unreadable = envelope.problem is not None
    event_id, duplicates = _upsert_event(
        conn,
        {
            "source": source,
            "unique_key": envelope.unique_key,
            "event_type": envelope.event_type,
            "object_type": envelope.object_type,
            "object_key": envelope.object_key,
            "body": raw.decode("utf-8", "replace").replace("\x00", "\ufffd"),
            "headers": redact_headers(headers),
            "status": EventStatus.dead if unreadable else EventStatus.received,
            "last_error": envelope.problem,
            "enqueued_at": None if unreadable else utcnow(),
        },
    )
    first = duplicates == 0
    if first and not unreadable and queue_event(event_id) is None:
        conn.execute(events.update().where(events.c.id == event_id).values(enqueued_at=None))
    return Receipt(400 if unreadable else 200, envelope.problem, event_id, first)


def retry_policy():
    """RQ's retry budget for processing jobs: intervals from settings, else the defaults."""
    from rq import Retry

    intervals = list(current_app.config.get("WEBHOOK_RETRY_INTERVALS") or RETRY_INTERVALS)
    return Retry(max=len(intervals), interval=intervals)


def event_job_id(event_id: int) -> str:
    """The id of the job that processes an event."""
    return instance_id(f"webhook-{event_id}")


def queue_event(event_id: int):
    """Enqueue processing of one event in one Redis round trip; None when Redis is down."""
    try:
        jobs = queue(QUEUE)
        with jobs.connection.pipeline() as pipe:
            job = jobs.enqueue(
                PROCESS_JOB,
                event_id,
                job_id=event_job_id(event_id),
                retry=retry_policy(),
                pipeline=pipe,
            )
            pipe.execute()
    except (RedisError, OSError):
        log.warning("could not queue webhook event %s: Redis is unavailable", event_id)
        return None
    return job


def mark_queued(event_ids: list[int]) -> None:
    """Note that these events are on the queue (the caller commits)."""
    if event_ids:
        db.session.execute(
            events.update().where(events.c.id.in_(event_ids)).values(enqueued_at=utcnow())
        )


def claim_event(event_id: int) -> bool:
    """Take an event for processing if nobody else holds it and it still needs work."""
    result = db.session.execute(
        events.update()
        .where(events.c.id == event_id, events.c.status.in_(CLAIMABLE))
        .values(status=EventStatus.processing, attempts=events.c.attempts + 1)
    )
    return result.rowcount == 1


def event_status(event_id: int) -> EventStatus | None:
    """An event's status, or None when it does not exist."""
    return db.session.scalar(sa.select(events.c.status).where(events.c.id == event_id))


def record_outcome(event_id: int, outcome: str, elapsed_ms: float) -> EventStatus:
    """Store a handled event as processed or ignored (the caller commits)."""
    status = EventStatus.ignored if outcome == "ignored" else EventStatus.processed
    db.session.execute(
        events.update()
        .where(events.c.id == event_id)
        .values(
            status=status,
            processed_at=utcnow(),
            processing_ms=round(elapsed_ms, 3),
            last_error=None,
        )
    )
    return status


def record_failure(
    event_id: int, error: BaseException, elapsed_ms: float, *, last_attempt: bool
) -> EventStatus:
    """Store a failed attempt: failed while retries remain, dead after the last one."""
    status = EventStatus.dead if last_attempt else EventStatus.failed
    detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    frames = traceback.format_tb(error.__traceback__)[-3:]
    db.session.execute(
        events.update()
        .where(events.c.id == event_id)
        .values(
            status=status,
            processing_ms=round(elapsed_ms, 3),
            last_error=(detail + "\n" + "".join(frames))[:4000],
        )
    )
    return status


def replay_event(event_id: int, actor: str | None = None) -> bool:
    """Put one event back to received so it is processed again (the caller commits, then queues)."""
    result = db.session.execute(
        events.update()
        .where(events.c.id == event_id, events.c.status != EventStatus.processing)
        .values(status=EventStatus.received, enqueued_at=None, note=_replay_note(actor))
    )
    return result.rowcount == 1


def replay_failed(actor: str | None = None, limit: int = 5000) -> list[int]:
    """Put failed and dead events back to received; returns their ids (the caller commits)."""
    ids = list(
        db.session.scalars(
            sa.select(events.c.id)
            .where(events.c.status.in_(REPLAYABLE))
            .order_by(events.c.id)
            .limit(limit)
        )
    )
    if ids:
        db.session.execute(
            events.update()
            .where(events.c.id.in_(ids), events.c.status.in_(REPLAYABLE))
            .values(status=EventStatus.received, enqueued_at=None, note=_replay_note(actor))
        )
    return ids


def _replay_note(actor: str | None) -> str:
    return f"replayed by {actor or 'an admin'} at {utcnow():%Y-%m-%d %H:%M:%S} UTC"


def queue_events(event_ids: list[int]) -> list[int]:
    """After the commit: queue each event; returns the ids that made it onto the queue."""
    return [event_id for event_id in event_ids if queue_event(event_id) is not None]


def unqueued_event_ids(*, grace: timedelta = timedelta(seconds=30)) -> list[int]:
    """Received events never queued (Redis was down), older than the grace period."""
    cutoff = utcnow() - grace
    return list(
        db.session.scalars(
            sa.select(events.c.id)
            .where(
                events.c.status == EventStatus.received,
                events.c.enqueued_at.is_(None),
                events.c.received_at < cutoff,
            )
            .order_by(events.c.id)
            .limit(SWEEP_LIMIT)
        )
    )


def orphaned_event_ids(*, stale: timedelta = timedelta(minutes=2)) -> list[int]:
    """Queued events whose job is gone (Redis flushed) or finished while the event still waits or
    is claimed, queued more than `stale` ago: the minute-by-minute sweep queues them again."""
    from rq.job import Job, JobStatus

    cutoff = utcnow() - stale
    rows = db.session.execute(
        sa.select(events.c.id, events.c.status)
        .where(
            events.c.status.in_((*CLAIMABLE, EventStatus.processing)),
            events.c.enqueued_at < cutoff,
        )
        .order_by(events.c.id)
        .limit(SWEEP_LIMIT)
    ).all()
    live = {s.value.encode() for s in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED)}
    pipe = redis_connection().pipeline(transaction=False)
    for event_id, _status in rows:
        pipe.hget(Job.key_for(event_job_id(event_id)), "status")
    orphans = [row[0] for row, found in zip(rows, pipe.execute(), strict=True) if found not in live]
    if orphans:
        db.session.execute(
            events.update()
            .where(events.c.id.in_(orphans), events.c.status == EventStatus.processing)
            .values(status=EventStatus.failed, last_error="The worker stopped while processing.")
        )
    return orphans
