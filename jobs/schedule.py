"""Cron work for `rq cron jobs/schedule.py`."""

from rq import cron

cron.register("jobs.sync.sweep_pending_syncs", queue_name="sync", interval=60)
