"""Jobs: each RQ queue's backlog and failed jobs with their error; retry one or all."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from flask import abort, flash
from flask_login import current_user
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from portal import audit
from portal.access import platform_admin_required
from portal.admin import bp
from portal.auth.forms import ConfirmForm
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.queues import QUEUES, queue
from portal.webhooks import inbox

FAILED_SHOWN = 50


@dataclass(frozen=True)
class FailedJob:
    """A job RQ gave up on, with the last line of its error."""

    id: str
    function: str
    error: str
    ended_at: datetime | None
    request_id: str | None = None  # the request (or webhook) that queued it, as the logs show it


@dataclass
class QueueStats:
    """One queue's counts and its newest failed jobs."""

    name: str
    queued: int = 0
    started: int = 0
    scheduled: int = 0
    failed_count: int = 0
    failed: list[FailedJob] = field(default_factory=list)


def _failed_job(job: Job) -> FailedJob:
    result = job.latest_result()
    text = (result.exc_string or "") if result is not None else ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    request_id = (job.meta or {}).get("request_id")
    return FailedJob(job.id, job.func_name, lines[-1] if lines else "", job.ended_at, request_id)


def _stats(name: str) -> QueueStats:
    q = queue(name)
    registry = FailedJobRegistry(queue=q)
    ids = registry.get_job_ids(0, FAILED_SHOWN - 1)
    jobs = [job for job in Job.fetch_many(ids, connection=q.connection) if job is not None]
    return QueueStats(
        name=name,
        queued=q.count,
        started=StartedJobRegistry(queue=q).count,
        scheduled=ScheduledJobRegistry(queue=q).count,
        failed_count=registry.count,
        failed=[_failed_job(job) for job in jobs],
    )


def _requeue(name: str, job_ids: list[str]) -> int:
    """Requeue failed jobs of this queue; a webhook job first puts its event back to received."""
    q = queue(name)
    registry = FailedJobRegistry(queue=q)
    job_ids = [job_id for job_id in job_ids if job_id in registry]
    found = dict(zip(job_ids, Job.fetch_many(job_ids, connection=q.connection), strict=True))
    for job_id in [job_id for job_id, job in found.items() if job is None]:
        registry.remove(job_id)
    jobs = [job for job in found.values() if job is not None]
    for job in jobs:
        if job.func_name == inbox.PROCESS_JOB and job.args:
            inbox.replay_event(int(job.args[0]), current_user.email)
    audit.record("jobs.retried", after={"queue": name, "jobs": [job.id for job in jobs][:50]})
    db.session.commit()
    done = 0
    for job in jobs:
        with contextlib.suppress(InvalidJobOperation):
            registry.requeue(job)
            done += 1
    return done


@bp.route("/jobs")
@platform_admin_required
def jobs():
    """Every queue with its counts and failed jobs."""
    try:
        stats, problem = [_stats(name) for name in QUEUES], None
    except (RedisError, OSError):
        stats, problem = [], "Redis is unavailable, so the queues cannot be read right now."
    return render_page(
        "admin/jobs.html",
        fragments={"job-queues"},
        stats=stats,
        problem=problem,
        confirm=ConfirmForm(),
    )


def _retry(name: str, job_ids: list[str] | None):
    if name not in QUEUES or not ConfirmForm().validate_on_submit():
        abort(404 if name not in QUEUES else 400)
    try:
        ids = job_ids if job_ids is not None else FailedJobRegistry(queue=queue(name)).get_job_ids()
        count = _requeue(name, ids)
    except (RedisError, OSError):
        flash("Redis is unavailable: nothing was retried.", "error")
    else:
        flash(f"{count} job(s) queued again on {name}.", "success")
    return redirect_to("admin.jobs")


@bp.route("/jobs/<name>/<job_id>/retry", methods=["POST"])
@platform_admin_required
def job_retry(name: str, job_id: str):
    """Run one failed job again."""
    return _retry(name, [job_id])


@bp.route("/jobs/<name>/retry-all", methods=["POST"])
@platform_admin_required
def jobs_retry_all(name: str):
    """Run every failed job of a queue again."""
    return _retry(name, None)
