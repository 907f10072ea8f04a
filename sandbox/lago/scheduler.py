"""lago-api's clock jobs (its `clock.rb`), run in order when the stand-in's clock moves.

Each job runs where lago-api's clockwork would run it: every 5 minutes (activate subscriptions)
or hourly at a fixed minute (terminate ended subscriptions and post-validate events at :05, bill
customers at :10, finalize drafts at :20, mark overdue invoices at :25, bill ended trials at :35,
scheduled payment retries at :45 (the stand-in's dunning knob), termination alerts at :50).
Moving the clock steps it to each slot where something is due, runs that job, and goes on, so
timestamps read as if the time had really passed. Jobs are idle when nothing is due, so a jump
of months costs one step per thing that happens, not one per hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clock import iso, parse_iso
from .periods import local_date, start_of_local_day, zone
from .resources import customers, events, invoices, payments, subscriptions

if TYPE_CHECKING:
    from .state import Standin

Record = dict[str, Any]
TERMINATION_ALERT_DAYS = subscriptions.TERMINATION_ALERT_DAYS


@dataclass(frozen=True)
class Job:
    """One clock job: where it runs, when something is next due, and what it does."""

    name: str
    minute: int | None  # hourly at this minute; None: every 5 minutes
    due: Callable[[Standin], datetime | None]
    run: Callable[[Standin, datetime], list[Record]]


def next_slot(moment: datetime, minute: int | None) -> datetime:
    """The first run of a job at or after `moment`."""
    base = moment.replace(second=0, microsecond=0)
    if minute is None:
        slot = base.replace(minute=base.minute - base.minute % 5)
        step = timedelta(minutes=5)
    else:
        slot = base.replace(minute=minute)
        step = timedelta(hours=1)
    while slot < moment:
        slot += step
    return slot


def _earliest(moments: list[datetime | None]) -> datetime | None:
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def _tz(standin: Standin, sub: Record) -> str:
    return subscriptions.tz_of(standin, sub)


def _subs(standin: Standin, status: str) -> list[Record]:
    return standin.store.all(
        subscriptions.KIND, newest_first=False, where=lambda s: s["status"] == status
    )


# --- activate pending subscriptions (every 5 minutes) ---------------------------------------


def _starting(standin: Standin) -> list[Record]:
    return [s for s in _subs(standin, "pending") if not s.get("previous_subscription_id")]


def _activation_due(standin: Standin) -> datetime | None:
    return _earliest(
        [
            start_of_local_day(parse_iso(s["subscription_at"]), _tz(standin, s))
            for s in _starting(standin)
        ]  # type: ignore[arg-type]
    )


def _activate(standin: Standin, at: datetime) -> list[Record]:
    done = []
    for sub in _starting(standin):
        tz = zone(_tz(standin, sub))
        if local_date(parse_iso(sub["subscription_at"]), tz) <= local_date(at, tz):  # type: ignore[arg-type]
            sub = subscriptions.activate(standin, sub, at)
            done.append({"job": "activate_subscriptions", "subscription": sub["id"]})
    return done


# --- terminate subscriptions whose ending_at day has come (:05) ----------------------------


def _ending(standin: Standin) -> list[Record]:
    return [s for s in _subs(standin, "active") if s.get("ending_at")]


def _termination_due(standin: Standin) -> datetime | None:
    return _earliest(
        [start_of_local_day(parse_iso(s["ending_at"]), _tz(standin, s)) for s in _ending(standin)]  # type: ignore[arg-type]
    )


def _terminate(standin: Standin, at: datetime) -> list[Record]:
    done = []
    for sub in _ending(standin):
        tz = zone(_tz(standin, sub))
        if local_date(parse_iso(sub["ending_at"]), tz) <= local_date(at, tz):  # type: ignore[arg-type]
            sub, _ = subscriptions.terminate(standin, sub, at)
            done.append({"job": "terminate_ended_subscriptions", "subscription": sub["id"]})
    return done


# --- post-validate events (:05) ------------------------------------------------------------


def _validation_due(standin: Standin) -> datetime | None:
    pending = standin.store.all(
        events.KIND, newest_first=False, where=lambda e: not e.get("validated")
    )
    return parse_iso(pending[0]["created_at"]) if pending else None


def _validate(standin: Standin, at: datetime) -> list[Record]:
    report = events.post_validate(standin)
    return [{"job": "post_validate_events", "events_errors": report}] if report else []


# --- bill subscriptions at their period boundary (:10) -------------------------------------


def _billing_due(standin: Standin) -> datetime | None:
    return _earliest([parse_iso(s.get("next_billing_at")) for s in _subs(standin, "active")])


def _bill(standin: Standin, at: datetime) -> list[Record]:
    """Clock::SubscriptionsBillerJob: one invoice per customer for the subscriptions whose
    period ended (a subscription with `consolidate_invoice: false` gets its own); a scheduled
    downgrade replaces its subscription at the boundary, on an invoice of its own."""
    grouped: dict[tuple[str, str], list[subscriptions.Bill]] = {}
    done: list[Record] = []
    for sub in _subs(standin, "active"):
        boundary = parse_iso(sub.get("next_billing_at"))
        if boundary is None or boundary > at:
            continue
        following = subscriptions.pending_next(standin, sub)
        if following is not None:
            done.append(_switch_to_downgrade(standin, sub, following, boundary, at))
            continue
        sub["next_billing_at"] = iso(subscriptions.current_period(standin, sub, boundary).end)
        bills = subscriptions.bill_boundary(standin, sub, boundary)
        sub = subscriptions.save(standin, sub)
        for item in bills:
            item.subscription = sub
        alone = sub["id"] if sub.get("consolidate_invoice") is False else ""
        grouped.setdefault((sub["customer_id"], alone), []).extend(bills)
    for (customer_id, _), bills in grouped.items():
        done.append(_invoice(standin, customer_id, bills, at))
    return done


def _switch_to_downgrade(
    standin: Standin, sub: Record, following: Record, boundary: datetime, at: datetime
) -> Record:
    """Subscriptions::ActivateService#activate_for_downgrade: the old subscription ends, the
    pending one starts, and both are billed together (`subscription.terminated`, then started)."""
    sub["status"] = "terminated"
    sub["terminated_at"] = iso(boundary)
    following["status"] = "active"
    following["started_at"] = following["activated_at"] = iso(boundary)
    following["next_billing_at"] = iso(
        subscriptions.current_period(standin, following, boundary).end
    )
    bills = subscriptions.bill_boundary(standin, sub, boundary, next_sub=following)
    sub = subscriptions.save(standin, sub)
    following = subscriptions.save(standin, following)
    for item in bills:
        item.subscription = following if item.subscription["id"] == following["id"] else sub
    subscriptions.emit(standin, "subscription.terminated", sub)
    subscriptions.emit(standin, "subscription.started", following)
    return _invoice(standin, sub["customer_id"], bills, at)


def _invoice(
    standin: Standin, customer_id: str, bills: list[subscriptions.Bill], at: datetime
) -> Record:
    customer = customers.get_by_id(standin, customer_id)
    invoice = invoices.bill(standin, customer, bills, at=at)
    return {
        "job": "bill_customers",
        "invoice": invoice["id"],
        "subscriptions": sorted({b.subscription["id"] for b in bills}),
    }


# --- finalize drafts after the grace period (:20) ------------------------------------------


def _drafts(standin: Standin) -> list[Record]:
    return standin.store.all(
        invoices.KIND,
        newest_first=False,
        where=lambda i: i["status"] == "draft" and bool(i.get("finalize_on")),
    )


def _finalize_due(standin: Standin) -> datetime | None:
    return _earliest([_midnight(date.fromisoformat(i["finalize_on"])) for i in _drafts(standin)])


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _finalize(standin: Standin, at: datetime) -> list[Record]:
    done = []
    for invoice in _drafts(standin):
        if _midnight(date.fromisoformat(invoice["finalize_on"])) <= at:
            invoice = invoices.finalize(standin, invoice, at=at)
            done.append({"job": "finalize_invoices", "invoice": invoice["id"]})
    return done


# --- mark overdue invoices (:25) -----------------------------------------------------------


def _overdue_due(standin: Standin) -> datetime | None:
    moments = []
    for invoice in invoices.overdue_candidates(standin):
        finalized = parse_iso(invoice.get("finalized_at")) or parse_iso(invoice["created_at"])
        moments.append(max(invoices.due_moment(invoice), finalized))  # type: ignore[type-var]
    return _earliest(moments)


def _overdue(standin: Standin, at: datetime) -> list[Record]:
    return [
        {"job": "mark_invoices_as_payment_overdue", "invoice": invoice["id"]}
        for invoice in invoices.mark_overdue(standin, at)
    ]


# --- bill ended trials (:35) ---------------------------------------------------------------


def _trials(standin: Standin) -> list[tuple[Record, datetime]]:
    found = []
    for sub in _subs(standin, "active"):
        if sub.get("trial_ended_at"):
            continue
        end = subscriptions.trial_end(standin, sub)
        if end is not None:
            found.append((sub, end))
    return found


def _trial_due(standin: Standin) -> datetime | None:
    return _earliest([end for _, end in _trials(standin)])


def _end_trials(standin: Standin, at: datetime) -> list[Record]:
    """Subscriptions::FreeTrialBillingService."""
    done = []
    for sub, end in _trials(standin):
        if end > at:
            continue
        bill = subscriptions.bill_trial_end(standin, sub, at)
        sub["trial_ended_at"] = iso(end)
        sub = subscriptions.save(standin, sub)
        record: Record = {"job": "bill_ended_trial_subscriptions", "subscription": sub["id"]}
        subscriptions.emit(standin, "subscription.trial_ended", sub)
        if bill is not None:
            bill.subscription = sub
            customer = subscriptions.customer_of(standin, sub)
            record["invoice"] = invoices.bill(standin, customer, [bill], at=at)["id"]
        done.append(record)
    return done


# --- scheduled payment retries (:45) -------------------------------------------------------


def _retry_due(standin: Standin) -> datetime | None:
    return _earliest([parse_iso(i["auto_retry_at"]) for i in payments.due_retries(standin)])


def _retry(standin: Standin, at: datetime) -> list[Record]:
    return [
        {"job": "retry_payments", "invoice": i["id"], "payment_status": i["payment_status"]}
        for i in payments.run_retries(standin, at)
    ]


# --- termination alerts 45 and 15 days before ending_at (:50) ------------------------------


def _alerts(standin: Standin) -> list[tuple[Record, int, date]]:
    found = []
    for sub in _ending(standin):
        ending = parse_iso(sub["ending_at"]).date()  # type: ignore[union-attr]
        for days in TERMINATION_ALERT_DAYS:
            if str(days) not in sub.get("alerts_sent", []):
                found.append((sub, days, ending - timedelta(days=days)))
    return found


def _alert_due(standin: Standin) -> datetime | None:
    return _earliest([_midnight(day) for _, _, day in _alerts(standin)])


def _alert(standin: Standin, at: datetime) -> list[Record]:
    """Clock::SubscriptionsToBeTerminatedJob (only when a webhook endpoint exists)."""
    done = []
    endpoints = standin.store.count("webhook_endpoint") > 0
    for sub, days, day in _alerts(standin):
        if day > at.date():
            continue
        fresh = standin.store.get(subscriptions.KIND, sub["id"]) or sub
        fresh.setdefault("alerts_sent", []).append(str(days))
        fresh = subscriptions.save(standin, fresh)
        if day == at.date() and endpoints:
            subscriptions.emit(standin, "subscription.termination_alert", fresh)
            done.append(
                {"job": "termination_alert", "subscription": sub["id"], "days_before": days}
            )
    return done


JOBS: tuple[Job, ...] = (
    Job("activate_subscriptions", None, _activation_due, _activate),
    Job("terminate_ended_subscriptions", 5, _termination_due, _terminate),
    Job("post_validate_events", 5, _validation_due, _validate),
    Job("bill_customers", 10, _billing_due, _bill),
    Job("finalize_invoices", 20, _finalize_due, _finalize),
    Job("mark_invoices_as_payment_overdue", 25, _overdue_due, _overdue),
    Job("bill_ended_trial_subscriptions", 35, _trial_due, _end_trials),
    Job("retry_payments", 45, _retry_due, _retry),
    Job("termination_alert", 50, _alert_due, _alert),
)


def run_until(standin: Standin, target: datetime) -> list[Record]:
    """Move the clock to `target`, running every job that falls due on the way, in order."""
    happened: list[Record] = []
    with standin.write_lock:
        start = standin.clock.now()
        floors = {job.name: start for job in JOBS}
        while True:
            candidates = []
            for order, job in enumerate(JOBS):
                moment = job.due(standin)
                if moment is None:
                    continue
                slot = next_slot(max(moment, floors[job.name], standin.clock.now()), job.minute)
                candidates.append((slot, order, job))
            if not candidates:
                break
            slot, _, job = min(candidates, key=lambda c: (c[0], c[1]))
            if slot > target:
                break
            if slot > standin.clock.now():
                standin.clock.travel_to(slot)
            for record in job.run(standin, slot):
                happened.append({"at": iso(slot)} | record)
            # A job never runs twice in the same slot (what it could not do waits a run).
            floors[job.name] = slot + timedelta(seconds=1)
        if target > standin.clock.now():
            standin.clock.travel_to(target)
    return happened
