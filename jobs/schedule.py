"""Cron work: (function, queue, seconds between runs), registered by the worker's cron scheduler
on this instance's queues."""

from jobs import dunning, emails, reconcile, sync, usage, webhooks

SCHEDULE = (
    (sync.sweep_pending_syncs, "sync", 60),
    (webhooks.sweep_unqueued, "webhooks", 60),
    (usage.forward_due, "default", 60),
    (emails.send_trial_reminders, "emails", 3600),
    (emails.send_card_expiry_reminders, "emails", 3600),
    (dunning.suspend_overdue_accounts, "default", 3600),
    (reconcile.reconcile_all, "default", 3600),
    (usage.check_usage_alerts, "default", 900),
    (usage.record_usage_days, "default", 3600),
)
