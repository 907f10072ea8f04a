"""Cron work, loaded by the worker's cron scheduler (or `rq cron jobs/schedule.py`)."""

from rq import cron

from jobs import dunning, emails, reconcile, sync, webhooks

cron.register(sync.sweep_pending_syncs, queue_name="sync", interval=60)
cron.register(webhooks.sweep_unqueued, queue_name="webhooks", interval=60)
cron.register(emails.send_trial_reminders, queue_name="emails", interval=3600)
cron.register(dunning.suspend_overdue_accounts, queue_name="default", interval=3600)
cron.register(reconcile.reconcile_all, queue_name="default", interval=3600)
