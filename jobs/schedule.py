"""Cron work, loaded by the worker's cron scheduler (or `rq cron jobs/schedule.py`)."""

from rq import cron

from jobs import sync

cron.register(sync.sweep_pending_syncs, queue_name="sync", interval=60)
